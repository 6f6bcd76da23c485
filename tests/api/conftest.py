import json

import pytest
from django.test import Client

from apikeys import services
from tenants.models import Membership

ALL_SCOPES = [
    "customers:read",
    "customers:write",
    "licenses:manage",
    "usage:read",
    "telemetry:write",
]


@pytest.fixture
def new_key(developer, acme):
    """new_key(scopes=[...], environment=..., **fields) -> the secret (and the key record)."""

    def make(scopes=None, environment="production", user=None, tenant=None, **fields):
        policy = (tenant or acme).settings
        policy.max_expiration_days = None
        policy.max_keys_per_user = 1000
        policy.save()
        membership = Membership.objects.get(user=user or developer, tenant=tenant or acme)
        key, secret = services.api_key_create(
            membership=membership,
            name=fields.pop("name", "Integration"),
            environment=environment,
            scopes=ALL_SCOPES if scopes is None else scopes,
            **fields,
        )
        make.last = key
        return secret

    return make


class Api:
    def __init__(self) -> None:
        self.client = Client()

    def __call__(
        self,
        method,
        path,
        key=None,
        body=None,
        environment="production",
        raw=None,
        content_type="application/json",
        **headers,
    ):
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        url = path if path.startswith("/api/") else f"/api/{environment}/v1{path}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        meta = {name: headers.pop(name) for name in list(headers) if name.isupper()}
        kwargs = {"headers": headers, **meta}
        if data is not None:
            kwargs |= {"data": data, "content_type": content_type}
        return getattr(self.client, method.lower())(url, **kwargs)


@pytest.fixture
def api():
    return Api()
