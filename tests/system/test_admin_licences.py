"""The system admin sets a tenant's user licences on its change page, through the tenants
services (the event, the rule that it never drops below what is assigned)."""

import pytest
from django.urls import reverse

from tenants.models import Event, Membership, Tenant
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import csrf_token_for
from tests.system.test_admin_write_path import _post_change

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def root_client(root, client_for):
    return client_for(root)


def test_the_system_admin_sets_a_tenants_licences_with_an_event(root_client, acme, admin):
    url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    response = _post_change(root_client, url, user_licenses="25")
    assert response.status_code == 302, response.content.decode()[:2000]
    acme.refresh_from_db()
    assert acme.user_licenses == 25
    event = Event.objects.get(action=Event.Action.TENANT_LICENSES_CHANGED)
    assert event.actor_email == "root@keyward.test" and event.tenant == acme
    assert event.changes == {"user_licenses": {"before": 10, "after": 25}, "via": "system admin"}


def test_licences_below_those_assigned_are_refused_with_a_clear_message(
    root_client, acme, admin, developer
):
    MembershipFactory(tenant=acme, is_developer=True)
    url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    response = _post_change(root_client, url, user_licenses="1")
    assert response.status_code == 200
    assert (
        "2 licences are assigned in this tenant: keep at least 2, or have a tenant admin "
        "unassign 1 on the Members page first."
    ) in response.content.decode()
    acme.refresh_from_db()
    assert acme.user_licenses == 10
    assert not Event.objects.filter(action=Event.Action.TENANT_LICENSES_CHANGED).exists()


def test_a_new_tenant_gets_its_licences_in_its_creation_event(root_client, db):
    boss = UserFactory(email="boss@initech.test")
    url = reverse("admin:tenants_tenant_add")
    token = csrf_token_for(root_client, url)
    data = {
        "name": "Initech",
        "slug": "initech",
        "is_active": "on",
        "user_licenses": "3",
        "settings-TOTAL_FORMS": "1",
        "settings-INITIAL_FORMS": "0",
        "settings-0-max_keys_per_user": "10",
        "settings-0-default_rate_limit": "60",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(boss.pk),
        "memberships-0-is_admin": "on",
    }
    response = root_client.post(url, data, headers={"X-CSRFToken": token})
    assert response.status_code == 302, response.content.decode()[:3000]
    tenant = Tenant.objects.get(slug="initech")
    assert tenant.user_licenses == 3
    created = Event.objects.get(tenant=tenant, action=Event.Action.TENANT_CREATED)
    assert created.changes == {"via": "system admin", "user_licenses": 3}


def test_the_admin_site_shows_licences_but_leaves_assigning_them_to_tenant_admins(
    root_client, acme, developer
):
    membership = Membership.objects.get(user=developer)
    url = reverse("admin:tenants_membership_change", args=[membership.pk])
    response = _post_change(root_client, url, has_license=None)
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.has_license  # read-only there: a save does not take it away
