"""The one door for every credential: `authenticate(request, credential)` returns who calls
(a `Principal`) or why not (a `Refusal`). Each kind of credential is a small class behind it:
tenant API keys (`TENANT_KEYS`), service keys (`SERVICE_KEYS`) and Provider API tokens
(`PROVIDER_TOKENS`). In order: a credential in the URL is refused (it is leaked), then the
bearer header is read, then the credential's own verifier decides."""

import re
from dataclasses import dataclass
from typing import Protocol

from django.http import HttpRequest

from gateway import networks
from gateway.provider import ProviderCaller, TokenRefused, verify_token
from gateway.verification import (
    IN_URL,
    MISSING,
    NOT_BEARER,
    Refusal,
    Verified,
    bearer_key,
    key_in_query,
    verifier,
    verify_service_key,
)
from web.http import client_ip


@dataclass(frozen=True, slots=True)
class Principal:
    """A proven caller: a key (`verified`: its record and rate-limit state) or a Provider API
    token (`provider`: its tenant). `refused` is set when the key is proven but may not be
    used from here (its network allowlist): the endpoint answers it and logs the request
    like any refusal it makes."""

    verified: Verified | None = None
    provider: ProviderCaller | None = None
    refused: Refusal | None = None


class Credential(Protocol):
    missing: Refusal
    not_bearer: Refusal

    def in_query(self, request: HttpRequest) -> bool: ...

    def verify(self, request: HttpRequest, token: str, environment: str) -> Principal | Refusal: ...


class TenantKeys:
    """`kw_live_`, `kw_stg_`, `kw_dev_` keys on the platform API of their environment."""

    missing, not_bearer = MISSING, NOT_BEARER

    def in_query(self, request: HttpRequest) -> bool:
        return key_in_query(request.GET)

    def verify(self, request: HttpRequest, token: str, environment: str) -> Principal | Refusal:
        verified = verifier.verify(token, environment)
        if isinstance(verified, Refusal):
            return verified
        allowlist = verified.record.networks
        if allowlist and not networks.admits(allowlist, address := client_ip(request)):
            return Principal(verified=verified, refused=address_refusal(address))
        return Principal(verified=verified)


def address_refusal(address: str | None) -> Refusal:
    """A proven key used from outside its network allowlist, naming where it came from."""
    if address is None:
        detail = (
            "The client address could not be read, and this API key may only be used from "
            "the networks on its allowlist."
        )
    else:
        detail = (
            f"This API key may not be used from {address}: it is outside its network allowlist."
        )
    return Refusal(403, "Address not allowed", detail)


class ServiceKeys:
    """`kw_svc_` keys on the system API."""

    missing, not_bearer = MISSING, NOT_BEARER

    def in_query(self, request: HttpRequest) -> bool:
        return key_in_query(request.GET)

    def verify(self, request: HttpRequest, token: str, environment: str) -> Principal | Refusal:
        verified = verify_service_key(token)
        return verified if isinstance(verified, Refusal) else Principal(verified=verified)


# A JWT (base64url of `{"...`, twice, then a signature) in the query string is a leaked token.
_JWT = re.compile(r"eyJ[0-9A-Za-z_-]*\.eyJ[0-9A-Za-z_-]*\.")
_TOKEN_REQUIRED = Refusal(
    401, "Token required", "Send 'Authorization: Bearer <JWT>' signed with your Provider API key."
)


class ProviderTokens:
    """Short-lived EdDSA JWTs signed with a tenant's Provider API key."""

    missing = not_bearer = _TOKEN_REQUIRED

    def in_query(self, request: HttpRequest) -> bool:
        return key_in_query(request.GET) or any(
            _JWT.search(text) for name, values in request.GET.lists() for text in (name, *values)
        )

    def verify(self, request: HttpRequest, token: str, environment: str) -> Principal | Refusal:
        try:
            return Principal(provider=verify_token(token))
        except TokenRefused as refused:
            return Refusal(401, refused.title, refused.detail)


TENANT_KEYS, SERVICE_KEYS, PROVIDER_TOKENS = TenantKeys(), ServiceKeys(), ProviderTokens()


def authenticate(
    request: HttpRequest, credential: Credential, environment: str = ""
) -> Principal | Refusal:
    if request.META.get("QUERY_STRING") and credential.in_query(request):
        return IN_URL
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return credential.missing
    token = bearer_key(header)
    if token is None:
        return credential.not_bearer
    return credential.verify(request, token, environment)
