from datetime import date

import factory

from accounts.models import User
from apikeys import services
from apikeys.models import ApiKey
from customers.models import Customer, License, SeatUsage
from tenants.models import Membership, Tenant, TenantSettings

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    user_licenses = 10
    settings = factory.RelatedFactory(
        "tests.factories.TenantSettingsFactory", factory_related_name="tenant"
    )


class TenantSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantSettings
        django_get_or_create = ("tenant",)

    api_keys_enabled = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    is_admin = False
    is_developer = False
    # A developer holds a licence unless a test says otherwise, as after the migration
    # that introduced licences: what worked before keeps working.
    has_license = factory.LazyAttribute(lambda membership: membership.is_developer)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    tenant = factory.SubFactory(TenantFactory)
    environment = "production"
    name = factory.Sequence(lambda n: f"Customer {n}")


class LicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = License

    customer = factory.SubFactory(CustomerFactory)
    seats = 10
    tier = "standard"


class SeatUsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SeatUsage

    customer = factory.SubFactory(CustomerFactory)
    day = factory.LazyFunction(date.today)
    seats_used = 4


def api_key(membership: Membership, **fields) -> tuple[ApiKey, str]:
    """A key made through the service, as its owner makes one: (key, secret).

    The tenant's key policy still applies; `lift_key_limits` lifts it where a test needs to.
    """
    values = {
        "name": "Integration",
        "environment": "production",
        "scopes": ["customers:read"],
    } | fields
    return services.api_key_create(membership=membership, **values)


def lift_key_limits(tenant: Tenant, *, keys_per_user: bool = True) -> None:
    """Let keys never expire (and, unless told otherwise, a user hold any number of them)."""
    policy = tenant.settings
    policy.max_expiration_days = None
    if keys_per_user:
        policy.max_keys_per_user = 1000
    policy.save()
