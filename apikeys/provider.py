"""Provider API credentials (DESIGN section 5): an Ed25519 key pair per tenant, of which only
the public key is kept, and the short-lived JWTs an integration signs with the private one."""

import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from apikeys import keyformat
from apikeys.models import ProviderKey
from tenants.models import Event, Membership, Tenant
from tenants.services import event_record

MAX_LIFETIME = 300  # seconds between iat and exp
LEEWAY = 30  # clock skew tolerated on exp / iat
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
        kid="pk_" + keyformat.random_base62(16),
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
