"""Provider API tokens: short-lived JWTs an integration signs with the private half of its
tenant's Provider API key (apikeys.provider keeps the public half)."""

from dataclasses import dataclass
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apikeys.models import ProviderKey
from apikeys.provider import KID_PATTERN
from tenants.models import Tenant

MAX_LIFETIME = 300  # seconds between iat and exp
LEEWAY = 30  # clock skew tolerated on exp / iat


@dataclass(frozen=True)
class ProviderCaller:
    tenant: Tenant
    kid: str


class TokenRefused(Exception):
    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail


def _not_proven() -> TokenRefused:
    """Until the signature is proven, an unknown `kid` and a wrong signature read the same."""
    return TokenRefused(
        "Invalid signature", "The token is not signed by a Provider API key with this `kid`."
    )


@lru_cache(maxsize=1)
def _unknown_key_pem() -> str:
    """A public key whose private half was never kept: no signature verifies against it."""
    return (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def verify_token(token: str) -> ProviderCaller:
    """The tenant a Provider API token speaks for, or TokenRefused saying why."""
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.InvalidTokenError, RecursionError):  # RecursionError: a deeply nested header
        raise TokenRefused("Invalid token", "The token is not a JWT.") from None
    if header.get("alg") != "EdDSA":
        raise TokenRefused("Invalid token", "Sign the token with EdDSA (Ed25519).")
    kid = header.get("kid")
    key = (
        ProviderKey.objects.select_related("tenant").filter(kid=kid).first()
        if isinstance(kid, str) and KID_PATTERN.fullmatch(kid)  # no NUL or junk is queried
        else None
    )
    # An unknown `kid` is checked against a key nobody holds, so it fails the way a wrong
    # signature does, after the same work: nothing tells which `kid`s exist.
    try:
        claims = jwt.decode(
            token,
            key.public_key_pem if key is not None else _unknown_key_pem(),
            algorithms=["EdDSA"],
            audience=settings.PROVIDER_API_AUDIENCE,
            issuer=key.tenant.slug if key is not None else "",
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused("Token expired", "The token has expired; sign a new one.") from None
    except jwt.InvalidAudienceError:
        raise TokenRefused(
            "Wrong audience", f"`aud` must be {settings.PROVIDER_API_AUDIENCE!r}."
        ) from None
    except jwt.InvalidIssuerError:
        raise TokenRefused("Wrong issuer", "`iss` must be your tenant's slug.") from None
    except jwt.InvalidSignatureError:
        raise _not_proven() from None
    except jwt.InvalidTokenError as exc:
        raise TokenRefused("Invalid token", str(exc)) from None
    if key is None:  # unreachable: no token verifies against the unknown key
        raise _not_proven()
    # Proven: now say why a genuine token is refused.
    if key.revoked_at is not None:
        raise TokenRefused("Key revoked", "This Provider API key has been revoked.")
    if not key.tenant.is_active:
        raise TokenRefused("Tenant deactivated", "The tenant of this key is deactivated.")
    issued, expires = claims["iat"], claims["exp"]
    if not isinstance(issued, int | float) or expires - issued > MAX_LIFETIME:
        raise TokenRefused(
            "Token lifetime too long", f"`exp` may be at most {MAX_LIFETIME} seconds after `iat`."
        )
    if issued > timezone.now().timestamp() + LEEWAY:
        raise TokenRefused("Invalid token", "`iat` is in the future.")
    jti = claims.get("jti")
    if jti is not None:
        if not isinstance(jti, str) or not 1 <= len(jti) <= 200 or not jti.isprintable():
            raise TokenRefused(
                "Invalid token", "`jti` must be 1 to 200 printable characters (a UUID, say)."
            )
        try:
            first_use = cache.add(f"provider-jti:{kid}:{jti}", 1, timeout=MAX_LIFETIME + 2 * LEEWAY)
        except Exception:
            # Without the replay store a replay cannot be ruled out: refuse (fail closed).
            raise TokenRefused("Unavailable", "Replay protection is unavailable; retry.") from None
        if not first_use:
            raise TokenRefused("Token replayed", "This `jti` was used already.")
    return ProviderCaller(tenant=key.tenant, kid=key.kid)
