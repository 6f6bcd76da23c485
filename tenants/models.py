from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from web.text import validate_name

MAX_EXPIRATION_DAYS = 3650  # ten years: today + this is always a date
MAX_DEFAULT_RATE_LIMIT = 100_000  # apikeys.models.MAX_RATE_LIMIT (apikeys builds on tenants)
MAX_USER_LICENSES = 100_000


class Tenant(models.Model):
    """An organisation on the platform; every tenant object hangs off one of these."""

    name = models.CharField(max_length=100, validators=[validate_name])
    slug = models.SlugField(max_length=50, unique=True)
    is_active = models.BooleanField(
        "active", default=True, help_text="An inactive tenant's portal and keys stop at once."
    )
    user_licenses = models.PositiveIntegerField(
        "user licences",
        default=0,
        validators=[MaxValueValidator(MAX_USER_LICENSES)],
        help_text="How many members may hold a licence; only a licensed developer generates "
        "API keys. Tenant admins assign them on the Members page.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user_licenses__lte=MAX_USER_LICENSES),
                name="tenant_user_licenses_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tenants:home", args=[self.slug])


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    DEVELOPER = "developer", "Developer"


class Membership(models.Model):
    """A user's place in a tenant. With no role at all the user is a plain member."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    is_admin = models.BooleanField("admin", default=False)
    is_developer = models.BooleanField("developer", default=False)
    # One of the tenant's user licences (Tenant.user_licenses), assigned by a tenant admin.
    has_license = models.BooleanField("licence", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_user_tenant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}"

    @property
    def roles(self) -> frozenset[Role]:
        roles = set()
        if self.is_admin:
            roles.add(Role.ADMIN)
        if self.is_developer:
            roles.add(Role.DEVELOPER)
        return frozenset(roles)

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in Role if role in self.roles] or ["Member"]

    def has_role(self, role: Role) -> bool:
        return role in self.roles


class LeakPolicy(models.TextChoices):
    """What happens to a live key of the tenant reported as leaked (the leaks app)."""

    REVOKE = "revoke", "Revoke the key at once"
    DISABLE = "disable", "Disable the key (its owner or an admin can enable it again)"
    NOTIFY = "notify", "Notify only (the key keeps working)"


class TenantSettings(models.Model):
    """The tenant's API key policy (DESIGN section 2)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="settings")
    api_keys_enabled = models.BooleanField(
        "Enable API keys",
        default=False,
        help_text="While off, no key of the tenant authenticates and no new key can be made.",
    )
    max_expiration_days = models.PositiveIntegerField(
        "Maximum token expiration (days)",
        null=True,
        blank=True,
        default=365,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_EXPIRATION_DAYS)],
        help_text="From 1 to 3,650 (ten years). Applies to new keys only. "
        "Leave empty for no maximum.",
    )
    max_keys_per_user = models.PositiveIntegerField(
        "Maximum API keys per user",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="From 1 to 1000. Creating a key beyond it is refused.",
    )
    default_rate_limit = models.PositiveIntegerField(
        "Default rate limit (requests per minute)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DEFAULT_RATE_LIMIT)],
        help_text="From 1 to 100,000.",
    )
    leak_policy = models.CharField(
        "When a key is reported as leaked",
        max_length=16,
        choices=LeakPolicy.choices,
        default=LeakPolicy.REVOKE,
        help_text="A live key found in public (GitHub's secret scanning, or anyone's report): "
        "its owner and the tenant's admins are emailed in every case.",
    )
    require_2fa_admins = models.BooleanField(
        "Require two-factor for admins",
        default=False,
        help_text="Admins without an authenticator app or passkey are led to set one up "
        "before anything else in this tenant.",
    )
    require_2fa_developers = models.BooleanField(
        "Require two-factor for developers",
        default=False,
        help_text="Developers without an authenticator app or passkey are led to set one up "
        "before anything else in this tenant.",
    )
    default_allowed_networks = models.JSONField(
        "Default network allowlist",
        default=list,
        blank=True,
        help_text="IPv4 or IPv6 ranges (CIDR), one a line, that new keys start with. "
        "Empty: new keys work from anywhere.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "tenant settings"
        verbose_name_plural = "tenant settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_keys_per_user__gte=1, max_keys_per_user__lte=1000),
                name="tenantsettings_max_keys_per_user_range",
            ),
            # Bounded so that today + the maximum is a date (a year past 9999 crashed pages).
            models.CheckConstraint(
                condition=models.Q(max_expiration_days__isnull=True)
                | models.Q(max_expiration_days__gte=1, max_expiration_days__lte=3650),
                name="tenantsettings_max_expiration_days_range",
            ),
            models.CheckConstraint(
                condition=models.Q(default_rate_limit__gte=1, default_rate_limit__lte=100_000),
                name="tenantsettings_default_rate_limit_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Settings of {self.tenant}"

    def requires_second_factor(self, membership: "Membership") -> bool:
        """Whether this tenant's policy asks `membership` for a second factor."""
        return (self.require_2fa_admins and membership.is_admin) or (
            self.require_2fa_developers and membership.is_developer
        )


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Events are append-only")


class Event(models.Model):
    """One append-only record of a change (DESIGN section 6). Never holds a secret."""

    class Action(models.TextChoices):
        MEMBER_ADDED = "member.added", "Member added"
        MEMBER_INVITED = "member.invited", "Member invited"
        MEMBER_REMOVED = "member.removed", "Member removed"
        ROLE_CHANGED = "member.roles_changed", "Roles changed"
        SETTINGS_CHANGED = "settings.changed", "Settings changed"
        KEY_CREATED = "key.created", "Key created"
        KEY_RENAMED = "key.renamed", "Key renamed"
        KEY_UPDATED = "key.updated", "Key settings changed"
        KEY_DISABLED = "key.disabled", "Key disabled"
        KEY_ENABLED = "key.enabled", "Key enabled"
        KEY_REGENERATED = "key.regenerated", "Key regenerated"
        KEY_ROLLED = "key.rolled", "Key rolled"
        KEY_REVOKED = "key.revoked", "Key revoked"
        KEY_DELETED = "key.deleted", "Key deleted"
        SERVICE_KEY_CREATED = "service_key.created", "Service key created"
        SERVICE_KEY_REVOKED = "service_key.revoked", "Service key revoked"
        SERVICE_KEY_UPDATED = "service_key.updated", "Service key updated"
        SERVICE_KEY_DELETED = "service_key.deleted", "Service key deleted"
        PROVIDER_KEY_CREATED = "provider_key.created", "Provider key generated"
        PROVIDER_KEY_REVOKED = "provider_key.revoked", "Provider key revoked"
        TENANT_CREATED = "tenant.created", "Tenant created"
        TENANT_ACTIVATED = "tenant.activated", "Tenant activated"
        TENANT_DEACTIVATED = "tenant.deactivated", "Tenant deactivated"
        TENANT_RENAMED = "tenant.renamed", "Tenant renamed"
        TENANT_LICENSES_CHANGED = "tenant.licenses_changed", "User licences changed"
        LICENSE_ASSIGNED = "member.license_assigned", "Licence assigned"
        LICENSE_UNASSIGNED = "member.license_unassigned", "Licence unassigned"
        CUSTOMER_CREATED = "customer.created", "Customer created"
        CUSTOMER_UPDATED = "customer.updated", "Customer updated"
        CUSTOMERS_IMPORTED = "customer.imported", "Customers imported"
        LICENSE_CHANGED = "license.changed", "Licence changed"
        KEY_LEAKED = "key.leaked", "Key reported as leaked"
        LEAK_REPORTER_ADDED = "leak_reporter.added", "Leak reporter added"
        LEAK_REPORTER_CHANGED = "leak_reporter.changed", "Leak reporter changed"
        LEAK_REPORTER_REMOVED = "leak_reporter.removed", "Leak reporter removed"
        # Account-level (no tenant): a user's second factors (accounts.services).
        TOTP_ADDED = "account.totp_added", "Authenticator app added"
        TOTP_REMOVED = "account.totp_removed", "Authenticator app removed"
        PASSKEY_ADDED = "account.passkey_added", "Passkey added"
        PASSKEY_REMOVED = "account.passkey_removed", "Passkey removed"
        RECOVERY_CODES_GENERATED = "account.recovery_codes_generated", "Recovery codes generated"
        SECOND_FACTORS_RESET = "account.second_factors_reset", "Second factors reset"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The actor's email at the time, so the record survives the user.
    actor_email = models.EmailField(blank=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField("target ID", max_length=64, blank=True, db_index=True)
    target_name = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField("client IP", null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="event_tenant_recent")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target_name}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Events are append-only")
