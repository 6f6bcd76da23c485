"""One door for every credential: `gateway.authentication.authenticate` returns a Principal for
a tenant key, a service key or a Provider API token, or the Refusal that says why not."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import RequestFactory

from apikeys import services
from apikeys.models import ProviderKey
from gateway.authentication import (
    PROVIDER_TOKENS,
    SERVICE_KEYS,
    TENANT_KEYS,
    Principal,
    authenticate,
)
from gateway.verification import IN_URL, INVALID, MISSING, NOT_BEARER, Refusal


def _request(token: str | None = None, query: str = "", scheme: str = "Bearer"):
    headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"} if token else {}
    return RequestFactory().get(f"/api/x{query}", **headers)


def test_a_tenant_key_is_a_principal_with_its_record_and_limit(new_key):
    principal = authenticate(_request(new_key()), TENANT_KEYS, "production")
    assert isinstance(principal, Principal)
    assert principal.verified.record.name == "Integration" and principal.provider is None


def test_a_service_key_is_a_principal_only_at_the_service_door(root, new_key):
    _, secret = services.service_key_create(service_name="inventory", actor=root)
    principal = authenticate(_request(secret), SERVICE_KEYS)
    assert isinstance(principal, Principal) and principal.verified.record.name == "inventory"
    assert authenticate(_request(secret), TENANT_KEYS, "production") == INVALID
    assert authenticate(_request(new_key()), SERVICE_KEYS) == INVALID


def test_a_provider_token_is_a_principal_with_its_tenant(acme, admin):
    private = Ed25519PrivateKey.generate()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    ProviderKey.objects.create(tenant=acme, kid="pk_0123456789abcdef", public_key_pem=public_pem)
    now = int(time.time())
    token = jwt.encode(
        {"iss": "acme", "aud": "keyward-provider-api", "iat": now, "exp": now + 60},
        private,
        algorithm="EdDSA",
        headers={"kid": "pk_0123456789abcdef"},
    )
    principal = authenticate(_request(token), PROVIDER_TOKENS)
    assert isinstance(principal, Principal) and principal.provider.tenant == acme
    refused = authenticate(_request(token + "x"), PROVIDER_TOKENS)
    assert isinstance(refused, Refusal) and refused.status == 401


@pytest.mark.parametrize("door", [TENANT_KEYS, SERVICE_KEYS, PROVIDER_TOKENS])
def test_every_door_refuses_a_credential_in_the_url_before_anything_else(door, new_key):
    key = new_key()
    assert authenticate(_request(key, query=f"?api_key={key}"), door, "production") == IN_URL


def test_the_key_doors_say_what_is_missing_and_the_provider_door_asks_for_a_token(db):
    assert authenticate(_request(), TENANT_KEYS, "production") == MISSING
    assert authenticate(_request("abc", scheme="Basic"), SERVICE_KEYS) == NOT_BEARER
    assert authenticate(_request(), PROVIDER_TOKENS).title == "Token required"
