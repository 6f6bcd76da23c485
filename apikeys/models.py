from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from tenants.models import Tenant
from web.text import validate_name

MAX_RATE_LIMIT = 100_000
# Seconds between the request-log writer's looks at an idle worker's buffer (gateway.usage).
LOG_TIMER_TICK = 1


def request_log_lag_seconds() -> int:
    """How long a request can wait before it is written: a batch's age, plus a timer tick."""
    return settings.API_LOG_FLUSH_SECONDS + LOG_TIMER_TICK


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    STAGING = "staging", "Staging"
    DEVELOPMENT = "development", "Development"

    @property
    def key_prefix(self) -> str:
        return KEY_PREFIXES[self.value]


# The one map between environments and the prefixes of their keys (kw_live_..., and so on).
KEY_PREFIXES = {"production": "live", "staging": "stg", "development": "dev"}
ENVIRONMENT_OF_PREFIX = {prefix: name for name, prefix in KEY_PREFIXES.items()}


class Scope(models.TextChoices):
    CUSTOMERS_READ = "customers:read", "Customer Read"
    CUSTOMERS_WRITE = "customers:write", "Customer Write"
    LICENSES_MANAGE = "licenses:manage", "License Management"
    USAGE_READ = "usage:read", "Usage Read"
    TELEMETRY_WRITE = "telemetry:write", "Telemetry Write"


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Expiration(models.TextChoices):
    VALID = "valid", "Valid"
    EXPIRING_SOON = "expiring_soon", "Expiring soon"
    EXPIRED = "expired", "Expired"


def today() -> date:
    return timezone.now().date()


def expiring_soon_until() -> date:
    return today() + timedelta(days=settings.KEYS_EXPIRING_SOON_DAYS)


class ExpiringKeyQuerySet(models.QuerySet):
    """Status and expiration state as database filters, so tables filter and count in SQL.
    Shared by tenant keys and service keys (which have no Inactive state)."""

    # What "active" asks beyond not revoked and not expired (tenant keys: not disabled).
    active_filter: dict = {}

    def _live(self) -> Q:
        not_expired = Q(expires_on__isnull=True) | Q(expires_on__gte=today())
        return Q(revoked_at__isnull=True) & not_expired

    def with_status(self, status: str):
        match status:
            case Status.ACTIVE:
                return self.filter(self._live(), **self.active_filter)
            case Status.INACTIVE if self.active_filter:
                return self.filter(self._live(), is_active=False)
            case Status.EXPIRED:
                return self.filter(revoked_at__isnull=True, expires_on__lt=today())
            case Status.REVOKED:
                return self.filter(revoked_at__isnull=False)
        return self

    def with_expiration(self, state: str):
        match state:
            case Expiration.VALID:
                return self.filter(
                    Q(expires_on__isnull=True) | Q(expires_on__gt=expiring_soon_until())
                )
            case Expiration.EXPIRING_SOON:
                return self.filter(expires_on__gte=today(), expires_on__lte=expiring_soon_until())
            case Expiration.EXPIRED:
                return self.filter(expires_on__lt=today())
        return self


class ApiKeyQuerySet(ExpiringKeyQuerySet):
    active_filter = {"is_active": True}  # tenant keys can be disabled by hand

    def with_scope(self, scope: str) -> "ApiKeyQuerySet":
        # Scopes are stored space-separated; no scope name is part of another (tested).
        return self.filter(scopes__contains=scope)

    def not_revoked(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A tenant API key. Holds the HMAC of the key, never the key itself."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys"
    )
    key_id = models.CharField("key ID", max_length=16, unique=True)
    name = models.CharField(max_length=100, validators=[validate_name])
    description = models.TextField(max_length=1000, blank=True)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    scopes = models.CharField("permissions", max_length=200)
    rate_limit = models.PositiveIntegerField(
        "rate limit (requests per minute)",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RATE_LIMIT)],
    )
    secret_hash = models.CharField(max_length=64)
    # While a roll's grace period runs, the previous key works until `previous_valid_until`.
    previous_secret_hash = models.CharField(max_length=64, blank=True)
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Public IDs of the customers this key is limited to; empty for all of the tenant's.
    customer_scope = models.JSONField(default=list, blank=True)
    # Normalised IPv4/IPv6 ranges (web.networks) the key may be used from; empty: anywhere.
    allowed_networks = models.JSONField("network allowlist", default=list, blank=True)
    expires_on = models.DateField(
        null=True, blank=True, help_text="The last day the key works; empty for never."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Reported as found in public (apikeys.services.api_key_report_leak): when, and where.
    leaked_at = models.DateTimeField(null=True, blank=True)
    leak_source = models.CharField("where it leaked", max_length=500, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-id"]
        # One index per console sort order (PostgreSQL scans each both ways). The nullable
        # columns' "newest first, never last" orders get PostgreSQL-only indexes in
        # migration 0002: SQLite cannot declare NULLS LAST in an index.
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="apikey_tenant_created"),
            models.Index(fields=["tenant", "updated_at", "id"], name="apikey_tenant_updated"),
            models.Index(fields=["tenant", "name", "id"], name="apikey_tenant_name"),
            models.Index(fields=["tenant", "expires_on", "id"], name="apikey_tenant_expires"),
            models.Index(fields=["tenant", "last_used_at", "id"], name="apikey_tenant_used"),
            models.Index(fields=["tenant", "owner", "created_at"], name="apikey_tenant_owner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(environment__in=Environment.values), name="apikey_environment_valid"
            ),
            models.CheckConstraint(
                condition=Q(rate_limit__gte=1, rate_limit__lte=MAX_RATE_LIMIT),
                name="apikey_rate_limit_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    def get_absolute_url(self) -> str:
        return reverse("apikeys:detail", args=[self.tenant.slug, self.key_id])

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def scope_labels(self) -> list[str]:
        labels = dict(Scope.choices)
        return [labels.get(scope, scope) for scope in self.scope_list]

    @property
    def permissions_summary(self) -> str:
        labels = self.scope_labels
        if len(labels) == len(Scope.choices):
            return "All permissions"
        if len(labels) > 2:
            return f"{labels[0]}, {labels[1]} +{len(labels) - 2}"
        return ", ".join(labels)

    @property
    def status(self) -> Status:
        if self.revoked_at is not None:
            return Status.REVOKED
        if self.expires_on is not None and self.expires_on < today():
            return Status.EXPIRED
        if not self.is_active:
            return Status.INACTIVE
        return Status.ACTIVE

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expiring_soon(self) -> bool:
        return (
            self.status in (Status.ACTIVE, Status.INACTIVE)
            and self.expires_on is not None
            and self.expires_on <= expiring_soon_until()
        )

    @property
    def in_grace_period(self) -> bool:
        return (
            bool(self.previous_secret_hash)
            and self.previous_valid_until is not None
            and self.previous_valid_until > timezone.now()
        )


class RequestLog(models.Model):
    """One API request, written in batches off the request path (gateway.usage)."""

    # Every index costs each logged request an insert: the two below serve the logs page,
    # tenant deletion and the purge (tenant by tenant), so neither column has its own.
    created_at = models.DateTimeField()
    # Empty for requests of service keys to the system API. No constraint in the database:
    # checking it was a third of each logged row's insert on PostgreSQL (DEVELOPERS.md), and
    # Django still deletes a tenant's log with the tenant (on_delete runs in Django).
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
    )
    # The key ID, not a foreign key: the log outlives a deleted key.
    key_id = models.CharField("key ID", max_length=16)
    environment = models.CharField(max_length=16)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    latency_ms = models.FloatField("latency (ms)")
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="requestlog_tenant_recent"),
            models.Index(fields=["tenant", "key_id", "-created_at"], name="requestlog_tenant_key"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


# KeyUsageDay's columns by status class, in the order the key page stacks them.
STATUS_CLASSES = ("succeeded", "client_errors", "rate_limited", "server_errors")


def status_class(status: int) -> int:
    """The index in STATUS_CLASSES of a response status: 429 is "rate limited", other 4xx
    "client errors", 5xx "server errors", anything below 400 "succeeded"."""
    if status < 400:
        return 0
    if status == 429:
        return 2
    return 1 if status < 500 else 3


class KeyUsageDay(models.Model):
    """Requests per key per day (UTC), counted in batches, in all and by status class.

    `requests` is the total; the classes add up to it for what was counted since they exist
    (counts written before migration 0009 have only a total: the key page shows the rest as
    not classified)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    key_id = models.CharField("key ID", max_length=16)
    day = models.DateField()
    requests = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField("succeeded (1xx-3xx)", default=0, db_default=0)
    client_errors = models.PositiveIntegerField(
        "client errors (4xx but 429)", default=0, db_default=0
    )
    rate_limited = models.PositiveIntegerField("rate limited (429)", default=0, db_default=0)
    server_errors = models.PositiveIntegerField("server errors (5xx)", default=0, db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key_id", "day"], name="keyusage_key_day")]

    def __str__(self) -> str:
        return f"{self.key_id} on {self.day}: {self.requests}"


class ServiceApiKeyQuerySet(ExpiringKeyQuerySet):
    pass


class ServiceApiKey(models.Model):
    """A platform-level key for service-to-service calls (`kw_svc_`), outside every tenant."""

    service_name = models.CharField(
        "service name",
        max_length=100,
        unique=True,
        validators=[validate_name],
        help_text="Unique identifier of the service that will use this key "
        "(e.g. inventory-service).",
    )
    description = models.TextField(
        max_length=1000, blank=True, help_text="Optional notes about the key's purpose and usage."
    )
    key_id = models.CharField("key ID", max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    expires_on = models.DateField(
        "expiration date",
        null=True,
        blank=True,
        help_text="Date after which the key stops working. Leave empty for a key that never "
        "expires.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField("created", auto_now_add=True)
    last_used_at = models.DateTimeField("last used", null=True, blank=True, editable=False)

    objects = ServiceApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "service API key"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.service_name

    @property
    def status(self) -> Status:
        if self.revoked_at is not None:
            return Status.REVOKED
        if self.expires_on is not None and self.expires_on < today():
            return Status.EXPIRED
        return Status.ACTIVE

    @property
    def is_expiring_soon(self) -> bool:
        return (
            self.status == Status.ACTIVE
            and self.expires_on is not None
            and self.expires_on <= expiring_soon_until()
        )


class ProviderKey(models.Model):
    """The public half of a tenant's Provider API credential (DESIGN section 5).

    The private key is shown once when generated and never stored. At most one is active
    per tenant: generating a new one revokes the previous one."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="provider_keys")
    kid = models.CharField("key ID", max_length=32, unique=True)
    public_key_pem = models.TextField("public key (PEM)")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(revoked_at__isnull=True),
                name="providerkey_one_active_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return self.kid
