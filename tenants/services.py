"""Writes for tenants, memberships and events. Each is atomic and records its own event."""

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from tenants.models import MAX_USER_LICENSES, Event, Membership, Tenant, TenantSettings
from tenants.selectors import licenses_assigned
from tenants.signals import member_leaving, tenant_changed
from web.networks import parse_networks


def event_record(
    *,
    action: Event.Action,
    actor: User | None,
    tenant: Tenant | None,
    target_type: str = "",
    target_id: str = "",
    target_name: str = "",
    changes: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> Event:
    """Append one event. Call it inside the transaction of the change it records."""
    return Event.objects.create(
        action=action,
        actor=actor,
        actor_email=actor.email if actor else "",
        tenant=tenant,
        target_type=target_type,
        target_id=target_id,
        target_name=target_name[:200],
        changes=changes or {},
        ip_address=ip_address,
    )


@transaction.atomic
def tenant_create(
    *,
    name: str,
    slug: str,
    api_keys_enabled: bool = False,
    user_licenses: int = 0,
    actor: User | None = None,
    via: str = "",
) -> Tenant:
    _check_user_licenses(user_licenses)
    tenant = Tenant.objects.create(name=name, slug=slug, user_licenses=user_licenses)
    TenantSettings.objects.create(tenant=tenant, api_keys_enabled=api_keys_enabled)
    changes: dict[str, Any] = {"via": via} if via else {}
    if user_licenses:
        changes["user_licenses"] = user_licenses
    event_record(
        action=Event.Action.TENANT_CREATED,
        actor=actor,
        tenant=tenant,
        target_type="tenant",
        target_id=slug,
        target_name=name,
        changes=changes,
    )
    return tenant


def _lock_tenant(tenant: Tenant) -> Tenant:
    # Serialises role and licence changes within a tenant so that two admins demoting each
    # other at once cannot leave it without an admin, nor two assignments pass the number of
    # licences (a row lock on PostgreSQL). Returns the tenant as it is now.
    return Tenant.objects.select_for_update().get(pk=tenant.pk)


def _other_admins_exist(membership: Membership) -> bool:
    return (
        Membership.objects.filter(tenant=membership.tenant, is_admin=True)
        .exclude(pk=membership.pk)
        .exists()
    )


def _role_names(is_admin: bool, is_developer: bool) -> list[str]:
    return [name for name, on in (("admin", is_admin), ("developer", is_developer)) if on]


@transaction.atomic
def member_add(
    *,
    tenant: Tenant,
    email: str,
    is_admin: bool,
    is_developer: bool,
    actor: User | None,
    ip_address: str | None = None,
    invite_url_base: str = "",
) -> Membership:
    """Add a user by email; an unknown email becomes a new user with an invitation."""
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    invited = user is None
    if user is None:
        user = User.objects.create_user(email=email)
    elif Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ValidationError({"email": "This person is already a member of this tenant."})
    membership = Membership.objects.create(
        tenant=tenant, user=user, is_admin=is_admin, is_developer=is_developer
    )
    event_record(
        action=Event.Action.MEMBER_INVITED if invited else Event.Action.MEMBER_ADDED,
        actor=actor,
        tenant=tenant,
        target_type="member",
        target_id=str(user.pk),
        target_name=user.email,
        changes={"roles": _role_names(is_admin, is_developer)},
        ip_address=ip_address,
    )
    if invited:
        transaction.on_commit(
            lambda: _send_invitation(user=user, tenant=tenant, actor=actor, base=invite_url_base)
        )
    return membership


def _send_invitation(*, user: User, tenant: Tenant, actor: User, base: str) -> None:
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {"tenant": tenant, "actor": actor, "url": base.rstrip("/") + path}
    send_mail(
        subject=f"You have been invited to {tenant.name} on Keyward",
        message=render_to_string("tenants/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


@transaction.atomic
def member_set_roles(
    *,
    membership: Membership,
    is_admin: bool,
    is_developer: bool,
    actor: User | None,
    ip_address: str | None = None,
) -> Membership:
    _lock_tenant(membership.tenant)
    membership.refresh_from_db()
    before = _role_names(membership.is_admin, membership.is_developer)
    after = _role_names(is_admin, is_developer)
    if before == after:
        return membership
    if membership.is_admin and not is_admin and not _other_admins_exist(membership):
        raise ValidationError("The last admin of a tenant cannot lose the admin role.")
    membership.is_admin = is_admin
    membership.is_developer = is_developer
    membership.save(update_fields=["is_admin", "is_developer"])
    event_record(
        action=Event.Action.ROLE_CHANGED,
        actor=actor,
        tenant=membership.tenant,
        target_type="member",
        target_id=str(membership.user_id),
        target_name=membership.user.email,
        changes={"roles": {"before": before, "after": after}},
        ip_address=ip_address,
    )
    return membership


@transaction.atomic
def member_remove(
    *, membership: Membership, actor: User | None, ip_address: str | None = None
) -> None:
    """Remove a member; the keys they own in this tenant are revoked with them (by the
    apikeys app, which listens for `member_leaving`)."""
    _lock_tenant(membership.tenant)
    membership.refresh_from_db()
    if membership.is_admin and not _other_admins_exist(membership):
        raise ValidationError("The last admin of a tenant cannot be removed.")
    event_record(
        action=Event.Action.MEMBER_REMOVED,
        actor=actor,
        tenant=membership.tenant,
        target_type="member",
        target_id=str(membership.user_id),
        target_name=membership.user.email,
        changes={"roles": _role_names(membership.is_admin, membership.is_developer)},
        ip_address=ip_address,
    )
    member_leaving.send(
        sender=Membership,
        tenant=membership.tenant,
        user=membership.user,
        actor=actor,
        ip_address=ip_address,
    )
    membership.delete()


@transaction.atomic
def tenant_set_active(
    *,
    tenant: Tenant,
    active: bool,
    actor: User | None,
    ip_address: str | None = None,
    via: str = "",
) -> Tenant:
    """Activate or deactivate a tenant; deactivation stops its portal and keys at once."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.is_active == active:
        return tenant
    tenant.is_active = active
    tenant.save(update_fields=["is_active"])
    tenant_changed.send(sender=Tenant, tenant=tenant)
    event_record(
        action=Event.Action.TENANT_ACTIVATED if active else Event.Action.TENANT_DEACTIVATED,
        actor=actor,
        tenant=tenant,
        target_type="tenant",
        target_id=tenant.slug,
        target_name=tenant.name,
        changes={"via": via} if via else None,
        ip_address=ip_address,
    )
    return tenant


@transaction.atomic
def tenant_rename(
    *, tenant: Tenant, name: str, actor: User | None, ip_address: str | None = None, via: str = ""
) -> Tenant:
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the tenant a name."})
    if name == tenant.name:
        return tenant
    before, tenant.name = tenant.name, name
    tenant.save(update_fields=["name"])
    changes: dict[str, Any] = {"name": {"before": before, "after": name}}
    if via:
        changes["via"] = via
    event_record(
        action=Event.Action.TENANT_RENAMED,
        actor=actor,
        tenant=tenant,
        target_type="tenant",
        target_id=tenant.slug,
        target_name=name,
        changes=changes,
        ip_address=ip_address,
    )
    return tenant


SETTINGS_FIELDS = (
    "api_keys_enabled",
    "max_expiration_days",
    "max_keys_per_user",
    "default_rate_limit",
    "leak_policy",
    "require_2fa_admins",
    "require_2fa_developers",
    "default_allowed_networks",
)


@transaction.atomic
def tenant_settings_update(
    *, membership: Membership, ip_address: str | None = None, **values: Any
) -> TenantSettings:
    """Change the tenant's key policy (admins). One event lists every field that changed."""
    if not membership.is_admin:
        raise PermissionDenied("Only tenant admins can change settings.")
    return _settings_update(membership.tenant, membership.user, ip_address, values)


@transaction.atomic
def tenant_settings_update_by_system(
    *, tenant: Tenant, actor: User | None, ip_address: str | None = None, **values: Any
) -> TenantSettings:
    """A system admin changes a tenant's key policy (the system admin site)."""
    return _settings_update(tenant, actor, ip_address, values, via="system admin")


def _settings_update(
    tenant: Tenant,
    actor: User | None,
    ip_address: str | None,
    values: dict[str, Any],
    via: str = "",
) -> TenantSettings:
    policy, _ = TenantSettings.objects.select_for_update().get_or_create(tenant=tenant)
    if "default_allowed_networks" in values:
        try:
            values["default_allowed_networks"] = parse_networks(values["default_allowed_networks"])
        except ValidationError as exc:
            raise ValidationError({"default_allowed_networks": exc.messages}) from None
    changes = {}
    for field in SETTINGS_FIELDS:
        if field in values and values[field] != getattr(policy, field):
            changes[field] = {"before": getattr(policy, field), "after": values[field]}
            setattr(policy, field, values[field])
    if not changes:
        return policy
    policy.full_clean()
    policy.save()
    if via:
        changes["via"] = via
    event_record(
        action=Event.Action.SETTINGS_CHANGED,
        actor=actor,
        tenant=tenant,
        target_type="settings",
        target_name="API key settings",
        changes=changes,
        ip_address=ip_address,
    )
    tenant_changed.send(sender=TenantSettings, tenant=tenant)
    return policy


def _check_user_licenses(count: int) -> None:
    if not 0 <= count <= MAX_USER_LICENSES:
        raise ValidationError({"user_licenses": f"From 0 to {MAX_USER_LICENSES:,} user licences."})


def _licences(count: int) -> str:
    return f"{count} licence" if count == 1 else f"{count} licences"


@transaction.atomic
def tenant_set_user_licenses(
    *, tenant: Tenant, count: int, actor: User | None, ip_address: str | None = None, via: str = ""
) -> Tenant:
    """Set how many user licences a tenant has (the system admin). It cannot go below the
    number assigned: a tenant admin unassigns licences first, so nobody loses one silently."""
    _check_user_licenses(count)
    tenant = _lock_tenant(tenant)
    if count == tenant.user_licenses:
        return tenant
    assigned = licenses_assigned(tenant=tenant)
    if count < assigned:
        raise ValidationError(
            {
                "user_licenses": f"{_licences(assigned)} of {tenant.name} are assigned: keep at "
                f"least {assigned}, or have a tenant admin unassign {assigned - count} on the "
                "Members page first."
            }
        )
    before, tenant.user_licenses = tenant.user_licenses, count
    tenant.save(update_fields=["user_licenses"])
    changes: dict[str, Any] = {"user_licenses": {"before": before, "after": count}}
    if via:
        changes["via"] = via
    event_record(
        action=Event.Action.TENANT_LICENSES_CHANGED,
        actor=actor,
        tenant=tenant,
        target_type="tenant",
        target_id=tenant.slug,
        target_name=tenant.name,
        changes=changes,
        ip_address=ip_address,
    )
    return tenant


@transaction.atomic
def member_set_license(
    *, membership: Membership, licensed: bool, actor: User | None, ip_address: str | None = None
) -> Membership:
    """Assign one of the tenant's user licences to a member, or take it back. A licence is
    what lets a developer generate keys; taking it back leaves their existing keys working
    (as losing the developer role does): revoke them separately if they must stop."""
    tenant = _lock_tenant(membership.tenant)
    membership.refresh_from_db()
    if membership.has_license == licensed:
        return membership
    if licensed:
        assigned = licenses_assigned(tenant=tenant)
        if assigned >= tenant.user_licenses:
            raise ValidationError(
                f"All {_licences(tenant.user_licenses)} of {tenant.name} are assigned: "
                "unassign one first, or ask the system admin for more."
                if tenant.user_licenses
                else f"{tenant.name} has no user licences yet: the system admin sets how many."
            )
    membership.has_license = licensed
    membership.save(update_fields=["has_license"])
    event_record(
        action=Event.Action.LICENSE_ASSIGNED if licensed else Event.Action.LICENSE_UNASSIGNED,
        actor=actor,
        tenant=tenant,
        target_type="member",
        target_id=str(membership.user_id),
        target_name=membership.user.email,
        ip_address=ip_address,
    )
    return membership
