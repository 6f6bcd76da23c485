import pytest

from apikeys import services
from tenants.models import Membership


@pytest.fixture
def make_key(db):
    """Create a key through the service, as its owner would. Returns (key, secret)."""

    def make(user, tenant=None, **fields):
        membership = Membership.objects.select_related("tenant").get(
            user=user, **({"tenant": tenant} if tenant else {})
        )
        values = {
            "name": "Integration",
            "environment": "production",
            "scopes": ["customers:read"],
            "expires_on": None,
        } | fields
        if values["expires_on"] is None:
            membership.tenant.settings.max_expiration_days = None
            membership.tenant.settings.save()
        return services.api_key_create(membership=membership, **values)

    return make


@pytest.fixture
def dev_membership(developer):
    return Membership.objects.get(user=developer)


@pytest.fixture
def admin_membership(admin):
    return Membership.objects.get(user=admin)
