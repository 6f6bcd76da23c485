"""The role matrix on every tenant view: who gets 200, 403, 404, or a redirect to sign in."""

import pytest
from django.urls import reverse

from tenants.models import Membership
from tests.helpers import csrf_token_for

MEMBER_PAGES = ["tenants:home", "apikeys:my_keys"]
ADMIN_PAGES = ["tenants:members", "tenants:events"]
ADMIN_MEMBER_PAGES = ["tenants:member_roles", "tenants:member_remove"]

# persona -> expected status for (everyone's pages, admin pages)
MATRIX = {
    "admin": (200, 200),
    "developer": (200, 403),
    "member": (200, 403),
    "outsider": (404, 404),
}


def _urls(member_id: int) -> list[tuple[str, str]]:
    urls = [(name, reverse(name, args=["acme"])) for name in MEMBER_PAGES + ADMIN_PAGES]
    urls += [(name, reverse(name, args=["acme", member_id])) for name in ADMIN_MEMBER_PAGES]
    return urls


@pytest.mark.parametrize("persona", list(MATRIX))
def test_each_persona_gets_what_its_roles_allow(personas, client_for, persona):
    client = client_for(personas[persona])
    target = Membership.objects.get(user=personas["member"])
    everyone, admin_only = MATRIX[persona]
    for name, url in _urls(target.pk):
        expected = everyone if name in MEMBER_PAGES else admin_only
        assert client.get(url).status_code == expected, (persona, url)


def test_anonymous_visitors_are_sent_to_sign_in(personas, client_for):
    target = Membership.objects.get(user=personas["member"])
    client = client_for(None)
    for _, url in _urls(target.pk):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_an_unknown_tenant_is_a_404_like_someone_elses(admin, client_for):
    client = client_for(admin)
    assert client.get("/t/no-such-tenant/").status_code == 404
    assert client.get("/t/globex/").status_code == 404


def test_a_member_of_another_tenant_is_a_404_through_an_admins_url(admin, outsider, client_for):
    other = Membership.objects.get(user=outsider)
    client = client_for(admin)
    assert client.get(reverse("tenants:member_roles", args=["acme", other.pk])).status_code == 404
    assert client.get(reverse("tenants:member_remove", args=["acme", other.pk])).status_code == 404
    # ...and through the other tenant's slug, it is a 404 too: the admin is not a member there.
    assert client.get(reverse("tenants:member_roles", args=["globex", other.pk])).status_code == 404


def test_an_inactive_tenant_is_a_404_for_its_own_members(admin, acme, client_for):
    acme.is_active = False
    acme.save()
    assert client_for(admin).get(reverse("tenants:home", args=["acme"])).status_code == 404


def test_writes_refuse_get_and_other_methods(admin, client_for):
    client = client_for(admin)
    token = csrf_token_for(client, reverse("tenants:members", args=["acme"]))
    assert client.get(reverse("tenants:member_add", args=["acme"])).status_code == 405
    put = client.put(reverse("tenants:members", args=["acme"]), headers={"X-CSRFToken": token})
    assert put.status_code == 405
    assert client.get(reverse("logout")).status_code == 405


def test_the_header_shows_only_the_navigation_a_role_may_use(admin, developer, client_for):
    admin_page = client_for(admin).get(reverse("tenants:home", args=["acme"])).content.decode()
    dev_page = client_for(developer).get(reverse("tenants:home", args=["acme"])).content.decode()
    members_url = reverse("tenants:members", args=["acme"])
    assert f'href="{members_url}"' in admin_page
    assert f'href="{members_url}"' not in dev_page


def test_the_switcher_lists_every_tenant_of_the_user(admin, globex, client_for):
    Membership.objects.create(user=admin, tenant=globex)
    page = client_for(admin).get(reverse("tenants:home", args=["acme"])).content.decode()
    assert 'href="/t/globex/"' in page
    assert 'href="/t/acme/"' in page
    assert client_for(admin).get("/t/globex/").status_code == 200


def test_home_redirects_to_the_first_tenant_or_explains(admin, client_for, db):
    assert client_for(admin).get("/")["Location"] == "/t/acme/"
    from tests.factories import UserFactory

    lonely = UserFactory()
    response = client_for(lonely).get("/")
    assert response.status_code == 200
    assert "not a member of any tenant" in response.content.decode()
