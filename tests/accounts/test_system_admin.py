from django.urls import reverse

from tests.factories import UserFactory

SYSTEM = reverse("admin:index")


def test_the_system_admin_site_is_at_system():
    assert SYSTEM == "/system/"


def test_a_superuser_gets_in(client_for, db):
    root = UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    client = client_for(root)
    assert client.get(SYSTEM).status_code == 200
    for model in ("tenants/tenant", "tenants/membership", "accounts/user", "tenants/event"):
        assert client.get(f"{SYSTEM}{model}/").status_code == 200, model


def test_tenant_admins_and_developers_are_refused(personas, client_for):
    for persona in ("admin", "developer", "member"):
        response = client_for(personas[persona]).get(SYSTEM)
        assert response.status_code == 302, persona
        assert response["Location"].startswith("/system/login/")


def test_even_a_staff_user_who_is_not_a_superuser_is_refused(client_for, db):
    staff = UserFactory(is_staff=True)
    assert client_for(staff).get(SYSTEM).status_code == 302
    assert client_for(staff).get(f"{SYSTEM}tenants/tenant/").status_code == 302


def test_a_tenant_made_in_the_admin_gets_its_settings_and_first_admin(client_for, db):
    from tenants.models import Tenant
    from tests.helpers import csrf_token_for

    root = UserFactory(is_superuser=True, is_staff=True)
    first_admin = UserFactory(email="boss@initech.test")
    client = client_for(root)
    url = f"{SYSTEM}tenants/tenant/add/"
    token = csrf_token_for(client, url)
    data = {
        "name": "Initech",
        "slug": "initech",
        "is_active": "on",
        "settings-TOTAL_FORMS": "0",
        "settings-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(first_admin.pk),
        "memberships-0-is_admin": "on",
    }
    response = client.post(url, data, headers={"X-CSRFToken": token})
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(slug="initech")
    assert tenant.settings.api_keys_enabled is False
    membership = tenant.memberships.get()
    assert membership.user == first_admin and membership.is_admin
