"""Fixed personas (healthchecks' hc/test.py style) shared by every test module.

acme: `admin` (admin), `developer` (developer), `member` (no role);
globex: `outsider` (admin and developer there, nothing in acme);
`root`: the system's superuser, a member of no tenant.
"""

import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tenants.models import Membership
from tests.factories import (
    MembershipFactory,
    TenantFactory,
    UserFactory,
    api_key,
    lift_key_limits,
)
from tests.helpers import csrf_token_for, passed_second_factor, with_verified_session


@pytest.fixture(autouse=True)
def _clean_state():
    """Redis outlives a test, and so do a process' key cache and request-log buffer."""
    from gateway import keystate
    from gateway.usage import buffer
    from gateway.verification import verifier

    cache.clear()
    keystate.reset_state()
    verifier.clear()
    buffer.discard()
    yield
    verifier.clear()
    buffer.discard()
    keystate.reset_state()
    cache.clear()


@pytest.fixture
def acme(db):
    return TenantFactory(slug="acme", name="Acme MSP")


@pytest.fixture
def globex(db):
    return TenantFactory(slug="globex", name="Globex")


@pytest.fixture
def admin(acme):
    return MembershipFactory(
        tenant=acme, user=UserFactory(email="admin@acme.test"), is_admin=True
    ).user


@pytest.fixture
def developer(acme):
    return MembershipFactory(
        tenant=acme, user=UserFactory(email="dev@acme.test"), is_developer=True
    ).user


@pytest.fixture
def member(acme):
    return MembershipFactory(tenant=acme, user=UserFactory(email="member@acme.test")).user


@pytest.fixture
def outsider(globex):
    return MembershipFactory(
        tenant=globex,
        user=UserFactory(email="owner@globex.test"),
        is_admin=True,
        is_developer=True,
    ).user


@pytest.fixture
def root(db):
    """The system's superuser: the admin site and the system API's service keys."""
    return UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)


@pytest.fixture
def personas(admin, developer, member, outsider):
    return {"admin": admin, "developer": developer, "member": member, "outsider": outsider}


@pytest.fixture
def client_for():
    """A CSRF-enforcing client signed in as `user` (or anonymous for None)."""

    def make(user=None) -> Client:
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            client.force_login(user)
            if user.is_superuser:
                with_verified_session(client, user)
            else:
                # A user who has a second factor signed in with it, as the sign-in asks.
                passed_second_factor(client, user)
        return client

    return make


@pytest.fixture
def admin_client(admin, client_for):
    """`admin`'s client, with the CSRF token acme's pages render in `client.token`."""
    client = client_for(admin)
    client.token = csrf_token_for(client, reverse("tenants:members", args=["acme"]))
    return client


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
        lift_key_limits(tenant or acme)
        membership = Membership.objects.get(user=user or developer, tenant=tenant or acme)
        key, secret = api_key(
            membership,
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
