from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apikeys import keyformat
from apikeys.models import Environment
from tenants.models import Tenant
from web.text import validate_name

MAX_SEATS = 1_000_000  # seats of a licence or used on a day (the API's and schema's bound)


def new_public_id() -> str:
    return "cus_" + keyformat.random_base62(12)


class Customer(models.Model):
    """A managed organisation of a tenant, in one environment (data never crosses them)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="customers")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    public_id = models.CharField("ID", max_length=20, unique=True, default=new_public_id)
    name = models.CharField(max_length=200, validators=[validate_name])
    external_id = models.CharField("external ID", max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["tenant", "environment", "name"], name="customer_scope")]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "environment", "external_id"],
                condition=~models.Q(external_id=""),
                name="customer_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name


class License(models.Model):
    class Tier(models.TextChoices):
        STANDARD = "standard", "Standard"
        PREMIUM = "premium", "Premium"
        ENTERPRISE = "enterprise", "Enterprise"

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="license")
    seats = models.PositiveIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_SEATS)]
    )
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    trial = models.BooleanField(default=False)
    not_for_resale = models.BooleanField("not for resale", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.customer}: {self.seats} {self.tier} seats"


class SeatUsage(models.Model):
    """Seats a customer used on a day, as reported through POST /telemetry."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    seats_used = models.PositiveIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(MAX_SEATS)]
    )

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "day"], name="seatusage_customer_day")
        ]

    def __str__(self) -> str:
        return f"{self.customer} on {self.day}: {self.seats_used}"
