"""Provider API credentials (DESIGN section 5): an Ed25519 key pair per tenant, of which only
the public key is kept, and the short-lived JWTs an integration signs with the private one."""

import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from apikeys.models import ProviderKey
from tenants.models import Event, Membership, Tenant
from tenants.services import event_record

MAX_LIFETIME = 300  # seconds between iat and exp
LEEWAY = 30  # clock skew tolerated on exp / iat
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KID_PATTERN = re.compile(r"pk_[0-9A-Za-z]{16}")  # what provider_key_generate makes


def _require_admin(membership: Membership) -> None:
    if not membership.is_admin:
        raise PermissionDenied("Only tenant admins manage the Provider API credential.")


def _revoke(key: ProviderKey, actor: User | None, ip_address: str | None) -> None:
    key.revoked_at = timezone.now()
    key.revoked_by = actor
    key.save(update_fields=["revoked_at", "revoked_by"])
    event_record(
        action=Event.Action.PROVIDER_KEY_REVOKED,
        actor=actor,
        tenant=key.tenant,
        target_type="provider_key",
        target_id=key.kid,
        target_name="Provider API key",
        ip_address=ip_address,
    )


@transaction.atomic
def provider_key_generate(
    *, membership: Membership, ip_address: str | None = None
) -> tuple[ProviderKey, str]:
    """A new key pair: returns the stored public half and the private key PEM, once.
    The tenant's previous key, if any, stops at once."""
    _require_admin(membership)
    Tenant.objects.select_for_update().filter(pk=membership.tenant_id).first()
    for active in ProviderKey.objects.filter(tenant=membership.tenant, revoked_at__isnull=True):
        _revoke(active, membership.user, ip_address)
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    key = ProviderKey.objects.create(
        tenant=membership.tenant,
        kid="pk_" + "".join(secrets.choice(BASE62) for _ in range(16)),
        public_key_pem=public_pem,
        created_by=membership.user,
    )
    event_record(
        action=Event.Action.PROVIDER_KEY_CREATED,
        actor=membership.user,
        tenant=key.tenant,
        target_type="provider_key",
        target_id=key.kid,
        target_name="Provider API key",
        changes={"algorithm": "EdDSA (Ed25519)"},
        ip_address=ip_address,
    )
    return key, private_pem


@transaction.atomic
def provider_key_revoke(*, membership: Membership, ip_address: str | None = None) -> ProviderKey:
    _require_admin(membership)
    key = (
        ProviderKey.objects.select_for_update()
        .filter(tenant=membership.tenant, revoked_at__isnull=True)
        .first()
    )
    if key is None:
        raise ValidationError("There is no active Provider API key to revoke.")
    _revoke(key, membership.user, ip_address)
    return key


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
