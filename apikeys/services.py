"""Every write to API keys. Each is atomic, enforces the tenant's policy itself (forms only
echo it) and records its event in the same transaction. Secrets are returned to the caller
once and never stored, logged or put into an event."""

import hmac
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from apikeys import keyformat
from apikeys.models import (
    MAX_RATE_LIMIT,
    ApiKey,
    Environment,
    Scope,
    ServiceApiKey,
    Status,
    today,
)
from apikeys.signals import keys_changed
from tenants.models import Event, LeakPolicy, Membership, Tenant, TenantSettings
from tenants.services import event_record
from web.networks import networks_diff, parse_networks
from web.text import check_name

MAX_GRACE = timedelta(days=7)
NAME_MAX = 100
DESCRIPTION_MAX = 1000


# How many of these customer IDs a tenant has in an environment. The customers app, which
# builds on this one, registers it (customers.apps); without it no customer can be named.
CustomerCounter = Callable[[Tenant, str, list[str]], int]
_count_customers: CustomerCounter = lambda tenant, environment, ids: 0  # noqa: E731


def register_customer_counter(counter: CustomerCounter) -> None:
    global _count_customers
    _count_customers = counter


def _record(
    key: ApiKey,
    action: Event.Action,
    actor: User | None,
    ip_address: str | None,
    changes: dict[str, Any] | None = None,
) -> None:
    event_record(
        action=action,
        actor=actor,
        tenant=key.tenant,
        target_type="key",
        target_id=key.key_id,
        target_name=key.name,
        changes=changes,
        ip_address=ip_address,
    )


def _record_service(
    key: ServiceApiKey,
    action: Event.Action,
    actor: User | None,
    ip_address: str | None,
    changes: dict[str, Any] | None = None,
) -> None:
    event_record(
        action=action,
        actor=actor,
        tenant=None,
        target_type="service_key",
        target_id=key.key_id,
        target_name=key.service_name,
        changes=changes,
        ip_address=ip_address,
    )


def _check_name_and_description(name: str, description: str) -> dict[str, str]:
    errors = {}
    if not name.strip():
        errors["name"] = "Give the key a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"A name has at most {NAME_MAX} characters."
    elif (message := check_name(name)) is not None:
        errors["name"] = message
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"A description has at most {DESCRIPTION_MAX} characters."
    return errors


def _require_owner(key: ApiKey, membership: Membership) -> None:
    if key.owner_id != membership.user_id or not membership.is_developer:
        raise PermissionDenied("Only the key's owner, as a developer, can do this.")


def _require_owner_or_admin(key: ApiKey, membership: Membership) -> None:
    if membership.is_admin:
        return
    _require_owner(key, membership)


def _require_not_revoked(key: ApiKey) -> None:
    if key.is_revoked:
        raise ValidationError("This key has been revoked; a revoked key cannot be changed.")


def _lock(key: ApiKey) -> ApiKey:
    """The key's row, locked for the rest of the transaction (a no-op on SQLite)."""
    return ApiKey.objects.select_for_update().select_related("tenant").get(pk=key.pk)


def _check_membership(key: ApiKey, membership: Membership) -> None:
    if key.tenant_id != membership.tenant_id:
        raise PermissionDenied("The key belongs to another tenant.")


RATE_LIMIT_MESSAGE = (
    f"The rate limit is a whole number from 1 to {MAX_RATE_LIMIT:,} requests per minute."
)


def rate_limit_error(rate_limit: int) -> str | None:
    """The one range of a key's rate limit, on create and on edit (forms echo it)."""
    if not 1 <= rate_limit <= MAX_RATE_LIMIT:
        return RATE_LIMIT_MESSAGE
    return None


def keys_held(*, tenant: Tenant, user_id: int) -> int:
    """What counts against the per-user maximum: the user's keys in the tenant not revoked."""
    return ApiKey.objects.filter(tenant=tenant, owner_id=user_id).not_revoked().count()


def key_cap_message(policy: TenantSettings) -> str:
    return (
        f"You have reached this tenant's maximum of {policy.max_keys_per_user} API keys "
        "per user. Revoke or delete a key first."
    )


def _networks(values: str | Iterable[str]) -> list[str]:
    return parse_networks(values if isinstance(values, str) else list(values))


def networks_error(allowed_networks: str | Iterable[str]) -> str | None:
    """Why `allowed_networks` cannot be a key's allowlist (web.networks), or None."""
    try:
        _networks(allowed_networks)
    except ValidationError as exc:
        return exc.messages[0]
    return None


def api_key_field_errors(
    *,
    tenant: Tenant,
    policy: TenantSettings,
    name: str,
    description: str,
    environment: str,
    scopes: Iterable[str],
    rate_limit: int,
    expires_on: date | None,
    customer_scope: Iterable[str] = (),
    allowed_networks: Iterable[str] = (),
) -> dict[str, str]:
    """Every field error of a new key at once (no write): the create form shows them all
    together, and `api_key_create` refuses on any of them."""
    errors = _check_name_and_description(name, description)
    if (message := networks_error(allowed_networks)) is not None:
        errors["allowed_networks"] = message
    scope_list = sorted(set(scopes))
    if not scope_list:
        errors["scopes"] = "Choose at least one permission."
    elif any(scope not in Scope.values for scope in scope_list):
        errors["scopes"] = "Choose permissions from the list."
    if environment not in Environment.values:
        errors["environment"] = "Choose production, staging or development."
    if (message := rate_limit_error(rate_limit)) is not None:
        errors["rate_limit"] = message
    if (message := expiry_error(policy, expires_on)) is not None:
        errors["expires_on"] = message
    customer_ids = sorted(set(customer_scope))
    if customer_ids and "environment" not in errors:
        found = _count_customers(tenant, environment, customer_ids)
        if found != len(customer_ids):
            errors["customer_scope"] = "Choose customers of this tenant in the key's environment."
    return errors


@transaction.atomic
def api_key_create(
    *,
    membership: Membership,
    name: str,
    environment: str,
    scopes: Iterable[str],
    description: str = "",
    rate_limit: int | None = None,
    expires_on: date | None = None,
    customer_scope: Iterable[str] = (),
    allowed_networks: Iterable[str] | None = None,
    actor: User | None = None,
    ip_address: str | None = None,
    via: str = "",
) -> tuple[ApiKey, str]:
    """Make a key owned by `membership`'s user. Returns the key and its secret, once.
    `allowed_networks` None: the tenant's default allowlist."""
    if not membership.is_developer:
        raise PermissionDenied("Only developers can create API keys.")
    # Locking the membership row serialises this user's creations in this tenant, so
    # the per-user cap holds when many requests arrive at once.
    membership = (
        Membership.objects.select_for_update().select_related("tenant").get(pk=membership.pk)
    )
    tenant = membership.tenant
    policy = TenantSettings.objects.get(tenant=tenant)
    if not tenant.is_active:
        raise ValidationError("This tenant is deactivated.")
    if not policy.api_keys_enabled:
        raise ValidationError(
            "API keys are disabled for this tenant. A tenant admin can enable them in Settings."
        )
    if not membership.has_license:
        # Checked on the locked row: a licence taken back a moment ago counts.
        raise ValidationError(
            "You need a licence to generate API keys, and you have none in this tenant. "
            "A tenant admin can assign you one on the Members page."
        )

    if rate_limit is None:
        rate_limit = policy.default_rate_limit
    if allowed_networks is None:
        allowed_networks = policy.default_allowed_networks
    errors = api_key_field_errors(
        tenant=tenant,
        policy=policy,
        name=name,
        description=description,
        environment=environment,
        scopes=scopes,
        rate_limit=rate_limit,
        expires_on=expires_on,
        customer_scope=customer_scope,
        allowed_networks=allowed_networks,
    )
    if errors:
        raise ValidationError(errors)
    scope_list = sorted(set(scopes))
    network_list = _networks(allowed_networks)
    customer_ids = sorted(set(customer_scope))

    if keys_held(tenant=tenant, user_id=membership.user_id) >= policy.max_keys_per_user:
        raise ValidationError(key_cap_message(policy))

    prefix = Environment(environment).key_prefix
    secret = keyformat.generate(prefix)
    key = ApiKey.objects.create(
        tenant=tenant,
        owner_id=membership.user_id,
        key_id=keyformat.parse(secret).key_id,
        name=name.strip(),
        description=description,
        environment=environment,
        scopes=" ".join(scope_list),
        rate_limit=rate_limit,
        expires_on=expires_on,
        customer_scope=customer_ids,
        allowed_networks=network_list,
        secret_hash=keyformat.hash_key(secret),
    )
    changes: dict[str, Any] = {
        "environment": environment,
        "permissions": scope_list,
        "rate_limit": rate_limit,
        "expires_on": expires_on.isoformat() if expires_on else None,
    }
    if customer_ids:
        changes["customer_scope"] = customer_ids
    if network_list:
        changes["allowed_networks"] = network_list
    if via:
        changes["via"] = via
    _record(key, Event.Action.KEY_CREATED, actor or membership.user, ip_address, changes)
    keys_changed.send(ApiKey, key_ids=[key.key_id])  # a worker may hold this ID as unknown
    return key, secret


@transaction.atomic
def api_key_update(
    *,
    key: ApiKey,
    membership: Membership,
    name: str,
    description: str,
    rate_limit: int | None = None,
    allowed_networks: Iterable[str] | None = None,
    ip_address: str | None = None,
) -> ApiKey:
    """Edit a key's settings (the owner only): its name, its description, its rate limit
    (within the range a new key has) and its network allowlist (None: unchanged). The gateway
    enforces a new limit or allowlist from the next request."""
    _check_membership(key, membership)
    _require_owner(key, membership)
    key = _lock(key)
    _require_not_revoked(key)
    errors = _check_name_and_description(name, description)
    if rate_limit is not None and (message := rate_limit_error(rate_limit)) is not None:
        errors["rate_limit"] = message
    if allowed_networks is not None and (message := networks_error(allowed_networks)):
        errors["allowed_networks"] = message
    if errors:
        raise ValidationError(errors)
    changes: dict[str, Any] = {}
    if name.strip() != key.name:
        changes["name"] = {"before": key.name, "after": name.strip()}
    if description != key.description:
        changes["description"] = {"before": key.description, "after": description}
    if rate_limit is not None and rate_limit != key.rate_limit:
        changes["rate_limit"] = {"before": key.rate_limit, "after": rate_limit}
    if allowed_networks is not None:
        network_list = _networks(allowed_networks)
        if network_list != key.allowed_networks:
            changes["allowed_networks"] = networks_diff(key.allowed_networks, network_list)
            key.allowed_networks = network_list
    if not changes:
        return key
    key.name = name.strip()
    key.description = description
    if rate_limit is not None:
        key.rate_limit = rate_limit
    key.save(update_fields=["name", "description", "rate_limit", "allowed_networks", "updated_at"])
    # A new rate limit or allowlist is a change of settings; a new name or description alone,
    # a rename.
    updated = "rate_limit" in changes or "allowed_networks" in changes
    action = Event.Action.KEY_UPDATED if updated else Event.Action.KEY_RENAMED
    _record(key, action, membership.user, ip_address, changes)
    keys_changed.send(ApiKey, key_ids=[key.key_id])
    return key


def _set_active(
    key: ApiKey, membership: Membership, active: bool, ip_address: str | None
) -> ApiKey:
    _check_membership(key, membership)
    _require_owner_or_admin(key, membership)
    key = _lock(key)
    _require_not_revoked(key)
    if key.status == Status.EXPIRED:
        raise ValidationError(
            f"This key expired on {key.expires_on:%Y-%m-%d} and works for nobody: disabling or "
            "enabling it changes nothing. Its owner can renew it with a new expiry date."
        )
    if key.is_active == active:
        return key
    key.is_active = active
    key.save(update_fields=["is_active", "updated_at"])
    action = Event.Action.KEY_ENABLED if active else Event.Action.KEY_DISABLED
    _record(key, action, membership.user, ip_address)
    keys_changed.send(ApiKey, key_ids=[key.key_id])
    return key


@transaction.atomic
def api_key_disable(
    *, key: ApiKey, membership: Membership, ip_address: str | None = None
) -> ApiKey:
    return _set_active(key, membership, False, ip_address)


@transaction.atomic
def api_key_enable(*, key: ApiKey, membership: Membership, ip_address: str | None = None) -> ApiKey:
    return _set_active(key, membership, True, ip_address)


def expiry_error(policy: TenantSettings, expires_on: date | None) -> str | None:
    """Why `expires_on` cannot be a key's expiry date, or None: in the future, within the
    tenant's maximum, required when there is one. The one rule of a new key and of a renewed
    one (`api_key_field_errors`, `api_key_regenerate`); `forms.apply_expiry_rule` shows it."""
    if expires_on is None:
        if policy.max_expiration_days:
            return f"This tenant requires an expiry date within {policy.max_expiration_days} days."
        return None
    if expires_on <= today():
        return "The expiry date must be in the future."
    if policy.max_expiration_days:
        latest = today() + timedelta(days=policy.max_expiration_days)
        if expires_on > latest:
            return (
                f"This tenant allows keys to last at most {policy.max_expiration_days} days "
                f"(until {latest:%Y-%m-%d})."
            )
    return None


@transaction.atomic
def api_key_regenerate(
    *,
    key: ApiKey,
    membership: Membership,
    ip_address: str | None = None,
    renew: bool = False,
    expires_on: date | None = None,
) -> tuple[ApiKey, str]:
    """A new secret with the same ID and settings; the old one (and any rolled one) stops now.

    An expired key is only regenerated to renew it (`renew=True`): its new secret comes with
    a new expiry date, `expires_on` (None for never, if the tenant allows it), checked as a
    new key's is. Without one, its new secret would be refused at once."""
    _check_membership(key, membership)
    _require_owner(key, membership)
    key = _lock(key)
    _require_not_revoked(key)
    expired = key.status == Status.EXPIRED
    if expired and not renew:
        raise ValidationError(
            f"This key expired on {key.expires_on:%Y-%m-%d}: a new secret would be refused at "
            "once. Renew it with a new expiry date instead."
        )
    if renew and not expired:
        raise ValidationError(
            "Only an expired key is renewed; this one still works until its expiry date."
        )
    if renew and not Membership.objects.filter(pk=membership.pk, has_license=True).exists():
        # Renewing makes a key that works for nobody work again: a new key, in effect, which
        # only a licensed developer may generate (a working key outlives a lost licence).
        raise ValidationError(
            "You need a licence to renew an API key, and you have none in this tenant. "
            "A tenant admin can assign you one on the Members page."
        )
    changes = None
    fields = ["secret_hash", "previous_secret_hash", "previous_valid_until", "updated_at"]
    if renew:
        error = expiry_error(TenantSettings.objects.get(tenant=key.tenant), expires_on)
        if error:
            raise ValidationError({"expires_on": error})
        changes = {
            "expires_on": {
                "before": key.expires_on.isoformat() if key.expires_on else None,
                "after": expires_on.isoformat() if expires_on else None,
            },
            "renewed": True,
        }
        key.expires_on = expires_on
        fields.append("expires_on")
    secret = keyformat.generate(Environment(key.environment).key_prefix, key.key_id)
    key.secret_hash = keyformat.hash_key(secret)
    key.previous_secret_hash = ""
    key.previous_valid_until = None
    key.save(update_fields=fields)
    _record(key, Event.Action.KEY_REGENERATED, membership.user, ip_address, changes)
    keys_changed.send(ApiKey, key_ids=[key.key_id])
    return key, secret


def roll_refusal(key: ApiKey) -> str | None:
    """Why this key cannot be rolled, or None. A roll keeps the current secret working during
    a grace period: only an active key has one that works."""
    match key.status:
        case Status.REVOKED:
            return "This key has been revoked; a revoked key cannot be changed."
        case Status.EXPIRED:
            return (
                f"This key expired on {key.expires_on:%Y-%m-%d}, so there is no working secret "
                "to keep during a grace period. Renew it with a new expiry date instead."
            )
        case Status.INACTIVE:
            return (
                "This key is disabled, so there is no working secret to keep during a grace "
                "period. Regenerate it, or enable it first."
            )
    return None


@transaction.atomic
def api_key_roll(
    *,
    key: ApiKey,
    membership: Membership,
    old_valid_until: datetime,
    ip_address: str | None = None,
) -> tuple[ApiKey, str]:
    """A new secret; the current one keeps working until `old_valid_until` (at most 7 days)."""
    _check_membership(key, membership)
    _require_owner(key, membership)
    now = timezone.now()
    if not now < old_valid_until <= now + MAX_GRACE:
        raise ValidationError(
            {"grace": "The old key can stay valid for at most 7 days, and not in the past."}
        )
    key = _lock(key)
    _require_not_revoked(key)
    if refusal := roll_refusal(key):
        raise ValidationError(refusal)
    secret = keyformat.generate(Environment(key.environment).key_prefix, key.key_id)
    key.previous_secret_hash = key.secret_hash
    key.previous_valid_until = old_valid_until
    key.secret_hash = keyformat.hash_key(secret)
    key.save(
        update_fields=["secret_hash", "previous_secret_hash", "previous_valid_until", "updated_at"]
    )
    _record(
        key,
        Event.Action.KEY_ROLLED,
        membership.user,
        ip_address,
        {"old_key_valid_until": old_valid_until.isoformat(timespec="minutes")},
    )
    keys_changed.send(ApiKey, key_ids=[key.key_id])
    return key, secret


def _revoke(key: ApiKey, actor: User | None, ip_address: str | None, via: str = "") -> bool:
    key = _lock(key)
    if key.is_revoked:
        return False
    key.revoked_at = timezone.now()
    key.revoked_by = actor
    key.previous_secret_hash = ""
    key.previous_valid_until = None
    key.save(
        update_fields=[
            "revoked_at",
            "revoked_by",
            "previous_secret_hash",
            "previous_valid_until",
            "updated_at",
        ]
    )
    _record(key, Event.Action.KEY_REVOKED, actor, ip_address, {"via": via} if via else None)
    keys_changed.send(ApiKey, key_ids=[key.key_id])
    return True


@transaction.atomic
def api_key_revoke(*, key: ApiKey, membership: Membership, ip_address: str | None = None) -> None:
    """Revoke for good: the key stops at once and can never be enabled again."""
    _check_membership(key, membership)
    _require_owner_or_admin(key, membership)
    _require_not_revoked(key)
    _revoke(key, membership.user, ip_address)


@transaction.atomic
def api_key_bulk_revoke(
    *, membership: Membership, key_ids: Iterable[str], ip_address: str | None = None
) -> int:
    """Revoke many keys of the admin's tenant at once; returns how many were revoked."""
    if not membership.is_admin:
        raise PermissionDenied("Only tenant admins can revoke keys in bulk.")
    keys = ApiKey.objects.filter(tenant=membership.tenant, key_id__in=list(key_ids)).not_revoked()
    return sum(_revoke(key, membership.user, ip_address) for key in keys.select_related("tenant"))


@transaction.atomic
def api_key_revoke_by_operator(*, key_id: str) -> ApiKey:
    """`manage.py revoke_api_key`: an operator's revocation, recorded as by the system."""
    key = ApiKey.objects.select_related("tenant").get(key_id=key_id)
    _require_not_revoked(key)
    _revoke(key, None, None, via="command line")
    return key


@transaction.atomic
def api_key_delete(*, key: ApiKey, membership: Membership, ip_address: str | None = None) -> None:
    """The owner deletes their key: the row goes, its events stay."""
    _check_membership(key, membership)
    _require_owner(key, membership)
    key = _lock(key)
    _record(key, Event.Action.KEY_DELETED, membership.user, ip_address, {"status": key.status})
    key.delete()
    keys_changed.send(ApiKey, key_ids=[key.key_id])


@transaction.atomic
def revoke_keys_of_member(
    *, tenant: Tenant, user: User, actor: User | None, ip_address: str | None = None
) -> int:
    """A member who leaves a tenant takes no working key with them."""
    keys = ApiKey.objects.filter(tenant=tenant, owner=user).not_revoked().select_related("tenant")
    return sum(_revoke(key, actor, ip_address, via="member removed") for key in keys)


@transaction.atomic
def service_key_create(
    *,
    service_name: str,
    actor: User,
    description: str = "",
    expires_on: date | None = None,
    ip_address: str | None = None,
) -> tuple[ServiceApiKey, str]:
    """A new service API key. Returns it and its secret, once."""
    service_name = service_name.strip()
    errors = {}
    if not service_name:
        errors["service_name"] = "Service name is required."
    elif len(service_name) > 100:
        errors["service_name"] = "A service name has at most 100 characters."
    elif (message := check_name(service_name)) is not None:
        errors["service_name"] = message
    elif ServiceApiKey.objects.filter(service_name__iexact=service_name).exists():
        errors["service_name"] = "A key for a service with this name already exists."
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"A description has at most {DESCRIPTION_MAX} characters."
    if expires_on is not None and expires_on <= today():
        errors["expires_on"] = "The expiration date must be in the future."
    if errors:
        raise ValidationError(errors)
    secret = keyformat.generate("svc")
    key = ServiceApiKey.objects.create(
        service_name=service_name,
        description=description,
        expires_on=expires_on,
        key_id=keyformat.parse(secret).key_id,
        secret_hash=keyformat.hash_key(secret),
    )
    _record_service(
        key,
        Event.Action.SERVICE_KEY_CREATED,
        actor,
        ip_address,
        {"expires_on": expires_on.isoformat() if expires_on else None},
    )
    return key, secret


@transaction.atomic
def service_key_revoke(
    *, key: ServiceApiKey, actor: User, ip_address: str | None = None
) -> ServiceApiKey:
    """Revoke for good: every call with the key is refused from the next request on."""
    key = ServiceApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        raise ValidationError("This key is already revoked; revoked keys cannot be re-activated.")
    key.revoked_at = timezone.now()
    key.revoked_by = actor
    key.save(update_fields=["revoked_at", "revoked_by"])
    _record_service(key, Event.Action.SERVICE_KEY_REVOKED, actor, ip_address)
    return key


@transaction.atomic
def service_key_update(
    *, key: ServiceApiKey, description: str, actor: User, ip_address: str | None = None
) -> ServiceApiKey:
    """Edit a service key's description, the one thing that can change after generation."""
    key = ServiceApiKey.objects.select_for_update().get(pk=key.pk)
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            {"description": f"A description has at most {DESCRIPTION_MAX} characters."}
        )
    if description == key.description:
        return key
    before, key.description = key.description, description
    key.save(update_fields=["description"])
    _record_service(
        key,
        Event.Action.SERVICE_KEY_UPDATED,
        actor,
        ip_address,
        {"description": {"before": before, "after": description}},
    )
    return key


@transaction.atomic
def service_key_delete(*, key: ServiceApiKey, actor: User, ip_address: str | None = None) -> None:
    """Delete a service key that was never used (a used one stays, for its history)."""
    key = ServiceApiKey.objects.select_for_update().get(pk=key.pk)
    if key.last_used_at is not None:
        raise ValidationError("This key has been used; revoke it instead, to keep its history.")
    _record_service(
        key, Event.Action.SERVICE_KEY_DELETED, actor, ip_address, {"status": key.status}
    )
    key.delete()


# Leaked keys (issue 16): a token found in public, reported by a trusted scanner (GitHub's
# secret scanning, the leaks app), by anyone (the public report page), or by an operator's
# scan (the system API). The key is handled by its tenant's leak policy.
LEAK_SOURCE_MAX = 500
LEAK_NOTE_MAX = 1000


def storable_text(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with what PostgreSQL text and JSON cannot hold (NUL,
    lone surrogates) replaced: a reporter's words are kept, never refused for a byte."""
    cleaned = text[:limit].replace("\x00", "\ufffd")
    return cleaned.encode("utf-8", "replace").decode("utf-8")


def _is_secret_of(key: ApiKey, digest: str) -> bool:
    if hmac.compare_digest(digest, key.secret_hash):
        return True
    return key.in_grace_period and hmac.compare_digest(digest, key.previous_secret_hash)


def find_key_by_token(token: object) -> ApiKey | None:
    """The tenant key whose secret `token` is now (or, while a roll's grace period runs, was),
    else None. The format and checksum are checked first, so garbage and look-alikes cost no
    query; then one indexed lookup by key ID and a constant-time comparison of keyed hashes.
    An old secret of a regenerated key is no key: it works for nobody."""
    if not isinstance(token, str):
        return None
    parsed = keyformat.parse(token)
    if parsed is None or parsed.env not in ENVIRONMENT_PREFIXES:
        return None
    key = ApiKey.objects.select_related("tenant", "owner").filter(key_id=parsed.key_id).first()
    if key is None or not _is_secret_of(key, keyformat.hash_key(token)):
        return None
    return key


ENVIRONMENT_PREFIXES = frozenset(prefix for prefix in keyformat.ENV_PREFIXES if prefix != "svc")


def api_key_report_leak(
    *,
    token: object,
    source_url: str,
    reporter: str,
    note: str = "",
    ip_address: str | None = None,
) -> ApiKey | None:
    """Handle a report that `token` was found at `source_url`. Returns the key it is (a true
    positive), else None (nothing happens). The first report of a key marks it leaked, records
    `key.leaked` (source, reporter, the reporter's note), applies the tenant's leak policy
    (revoke, disable, or notify only) and emails the owner and the tenant's admins after the
    commit (the key's name and ID and where it was found, never the secret). Reporting a key
    already marked leaked changes nothing and sends nothing: reports are idempotent.

    Not a token (a look-alike, a wrong checksum) costs no query, not even a transaction's."""
    key = find_key_by_token(token)
    if key is None:
        return None
    return _handle_leak(key, keyformat.hash_key(token), source_url, reporter, note, ip_address)


@transaction.atomic
def _handle_leak(
    key: ApiKey,
    digest: str,
    source_url: str,
    reporter: str,
    note: str,
    ip_address: str | None,
) -> ApiKey | None:
    key = _lock(key)
    if not _is_secret_of(key, digest):
        return None  # regenerated since it was looked up
    if key.leaked_at is not None:
        return key
    policy = LeakPolicy(TenantSettings.objects.get(tenant=key.tenant).leak_policy)
    source_url = storable_text(source_url, LEAK_SOURCE_MAX)
    key.leaked_at = timezone.now()
    key.leak_source = source_url
    key.save(update_fields=["leaked_at", "leak_source", "updated_at"])
    if policy == LeakPolicy.REVOKE and not key.is_revoked:
        outcome = "revoked"
    elif policy == LeakPolicy.DISABLE and key.status == Status.ACTIVE:
        outcome = "disabled"
    else:
        outcome = "notified"  # notify only, or a key that works for nobody already
    changes: dict[str, Any] = {"source": source_url, "reporter": reporter, "policy": outcome}
    if note:
        changes["note"] = storable_text(note, LEAK_NOTE_MAX)
    _record(key, Event.Action.KEY_LEAKED, None, ip_address, changes)
    if outcome == "revoked":
        _revoke(key, None, ip_address, via="leak report")
    elif outcome == "disabled":
        key.is_active = False
        key.save(update_fields=["is_active", "updated_at"])
        _record(key, Event.Action.KEY_DISABLED, None, ip_address, {"via": "leak report"})
        keys_changed.send(ApiKey, key_ids=[key.key_id])
    key.refresh_from_db()
    notice = {"key": key, "source": source_url, "reporter": reporter, "outcome": outcome}
    transaction.on_commit(lambda: _send_leak_notices(**notice))
    return key


def _send_leak_notices(*, key: ApiKey, source: str, reporter: str, outcome: str) -> None:
    """One email to the key's owner and one to each admin of its tenant (each once)."""
    admins = Membership.objects.filter(tenant=key.tenant, is_admin=True, user__is_active=True)
    recipients = dict.fromkeys([key.owner.email] if key.owner.is_active else []) | dict.fromkeys(
        admins.values_list("user__email", flat=True)
    )
    context = {"key": key, "source": source, "reporter": reporter, "outcome": outcome}
    subject = f"API key {key.name} ({key.key_id}) was found in public"
    message = render_to_string("apikeys/email/key_leaked.txt", context)
    for email in recipients:
        send_mail(
            subject=subject,
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[email],
        )


def api_key_revoke_found(*, token: object, found_at: str, service: str) -> ApiKey | None:
    """The system API's revocation of a key an operator's scan found (`--revoke`): the key
    the token is, marked leaked where it was found and revoked whatever the tenant's leak
    policy (the operator asked). None when the token is no live secret of any key."""
    key = find_key_by_token(token)
    if key is None:
        return None
    return _revoke_found(key, keyformat.hash_key(token), found_at, service)


@transaction.atomic
def _revoke_found(key: ApiKey, digest: str, found_at: str, service: str) -> ApiKey | None:
    key = _lock(key)
    if not _is_secret_of(key, digest):
        return None
    found_at = storable_text(found_at, LEAK_SOURCE_MAX)
    if key.leaked_at is None:
        key.leaked_at = timezone.now()
        key.leak_source = found_at
        key.save(update_fields=["leaked_at", "leak_source", "updated_at"])
        _record(
            key,
            Event.Action.KEY_LEAKED,
            None,
            None,
            {"source": found_at, "reporter": service, "policy": "revoked"},
        )
    _revoke(key, None, None, via=f"scan, {service}")
    key.refresh_from_db()
    return key
