import pytest

from tenants.models import Membership
from tests.factories import api_key, lift_key_limits


@pytest.fixture
def make_key(db):
    """Create a key through the service, as its owner would. Returns (key, secret)."""

    def make(user, tenant=None, **fields):
        membership = Membership.objects.select_related("tenant").get(
            user=user, **({"tenant": tenant} if tenant else {})
        )
        fields.setdefault("expires_on", None)
        if fields["expires_on"] is None:
            lift_key_limits(membership.tenant, keys_per_user=False)
        return api_key(membership, **fields)

    return make


@pytest.fixture
def dev_membership(developer):
    return Membership.objects.get(user=developer)


@pytest.fixture
def admin_membership(admin):
    return Membership.objects.get(user=admin)
