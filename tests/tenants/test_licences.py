"""User licences (seed 003: "A license is required to generate an API key"): the system admin
sets how many a tenant has, its admins assign them on the Members page, and only a licensed
developer generates keys."""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apikeys.models import ApiKey
from gateway.verification import Verified, Verifier
from tenants import services
from tenants.models import Event, Membership
from tests.factories import MembershipFactory, UserFactory, api_key
from tests.helpers import htmx_headers

MEMBERS = reverse("tenants:members", args=["acme"])


def _license_url(membership: Membership, slug: str = "acme") -> str:
    return reverse("tenants:member_license", args=[slug, membership.pk])


def _membership(user, tenant) -> Membership:
    return Membership.objects.get(user=user, tenant=tenant)


# --- The services ---------------------------------------------------------------------------


def test_assigning_and_unassigning_a_licence_each_write_an_event(acme, admin, member):
    target = _membership(member, acme)
    services.member_set_license(membership=target, licensed=True, actor=admin)
    target.refresh_from_db()
    assert target.has_license
    services.member_set_license(membership=target, licensed=False, actor=admin)
    target.refresh_from_db()
    assert not target.has_license
    events = Event.objects.filter(tenant=acme, target_name="member@acme.test").order_by("id")
    assert [e.action for e in events] == [
        Event.Action.LICENSE_ASSIGNED,
        Event.Action.LICENSE_UNASSIGNED,
    ]
    assert {e.actor_email for e in events} == {"admin@acme.test"}


def test_assigning_a_licence_twice_changes_nothing_and_records_nothing(acme, admin, developer):
    target = _membership(developer, acme)
    assert target.has_license
    services.member_set_license(membership=target, licensed=True, actor=admin)
    assert not Event.objects.filter(action=Event.Action.LICENSE_ASSIGNED).exists()


def test_no_more_licences_are_assigned_than_the_tenant_has(acme, admin, developer, member):
    acme.user_licenses = 1  # the developer holds it
    acme.save()
    with pytest.raises(ValidationError, match="All 1 licence of Acme MSP are assigned"):
        services.member_set_license(
            membership=_membership(member, acme), licensed=True, actor=admin
        )
    assert not _membership(member, acme).has_license
    assert not Event.objects.filter(action=Event.Action.LICENSE_ASSIGNED).exists()


def test_a_tenant_without_licences_says_who_sets_them(acme, admin, member):
    acme.user_licenses = 0
    acme.save()
    with pytest.raises(ValidationError, match="no user licences yet: the system admin"):
        services.member_set_license(
            membership=_membership(member, acme), licensed=True, actor=admin
        )


def test_the_number_of_licences_cannot_drop_below_those_assigned(acme, developer, root):
    MembershipFactory(tenant=acme, is_developer=True)  # two licences are assigned
    with pytest.raises(ValidationError, match="keep at least 2"):
        services.tenant_set_user_licenses(tenant=acme, count=1, actor=root)
    acme.refresh_from_db()
    assert acme.user_licenses == 10
    tenant = services.tenant_set_user_licenses(tenant=acme, count=2, actor=root, via="test")
    assert tenant.user_licenses == 2
    event = Event.objects.get(action=Event.Action.TENANT_LICENSES_CHANGED)
    assert event.tenant == acme
    assert event.changes == {"user_licenses": {"before": 10, "after": 2}, "via": "test"}


@pytest.mark.parametrize("count", [-1, 100_001])
def test_the_number_of_licences_stays_in_range(acme, root, count):
    with pytest.raises(ValidationError, match="From 0 to 100,000"):
        services.tenant_set_user_licenses(tenant=acme, count=count, actor=root)


def test_licences_of_one_tenant_do_not_count_in_another(acme, globex, admin, outsider, member):
    globex.user_licenses = 1  # the outsider holds globex's only licence
    globex.save()
    acme.user_licenses = 1
    acme.save()
    # acme's developer-less seat is free: globex's assignment does not use it up.
    services.member_set_license(membership=_membership(member, acme), licensed=True, actor=admin)
    assert _membership(member, acme).has_license


# --- Generating keys ------------------------------------------------------------------------


def test_only_a_licensed_developer_creates_a_key(acme, developer):
    membership = _membership(developer, acme)
    Membership.objects.filter(pk=membership.pk).update(has_license=False)
    with pytest.raises(ValidationError, match="You need a licence to generate API keys"):
        api_key(membership)
    assert not ApiKey.objects.exists()
    assert not Event.objects.filter(action=Event.Action.KEY_CREATED).exists()


def test_the_create_dialog_shows_the_licence_error(acme, developer, client_for):
    Membership.objects.filter(user=developer).update(has_license=False)
    client = client_for(developer)
    url = reverse("apikeys:create", args=["acme"])
    token = str(client.get(url).context["csrf_token"])
    response = client.post(
        url,
        {
            "name": "Shop",
            "environment": "production",
            "scopes": ["customers:read"],
            "rate_limit": "60",
            "expires_on": (date.today() + timedelta(days=30)).isoformat(),
        },
        headers=htmx_headers(token),
    )
    assert "You need a licence to generate API keys" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_losing_a_licence_leaves_existing_keys_working(acme, admin, developer, new_key):
    """As losing the developer role does: the key stops only when someone revokes it."""
    secret = new_key()
    services.member_set_license(
        membership=_membership(developer, acme), licensed=False, actor=admin
    )
    assert isinstance(Verifier().verify(secret, "production"), Verified)
    assert new_key.last.status == "active"


# --- The Members page -----------------------------------------------------------------------


def _licence_cells(page: str) -> dict[str, str]:
    """Each row's email and the text of its licence button."""
    rows = re.findall(r"<tr>\s*<td>([^<\s]+).*?license-cell(.*?)</td>", page, re.S)
    return {
        email: re.search(r'<button[^>]*id="license-\d+"[^>]*>(\w+)<', cell).group(1)
        + (" (disabled)" if re.search(r"<button[^>]*disabled", cell) else "")
        for email, cell in rows
    }


def test_the_members_page_shows_how_many_licences_are_assigned(admin_client, developer, member):
    page = admin_client.get(MEMBERS).content.decode()
    assert re.search(r"<strong>1 of 10</strong> licences assigned", page)
    assert _licence_cells(page) == {
        "admin@acme.test": "Assign",
        "dev@acme.test": "Unassign",
        "member@acme.test": "Assign",
    }


def test_one_click_assigns_a_licence_and_redraws_the_table(admin_client, acme, member):
    target = _membership(member, acme)
    response = admin_client.post(
        _license_url(target), {"licensed": "1"}, headers=htmx_headers(admin_client.token)
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="members-table"')
    assert re.search(r"<strong>1 of 10</strong> licences assigned", body)
    assert _licence_cells(body)["member@acme.test"] == "Unassign"
    assert "member@acme.test now holds a licence." in body  # the toast, out of band
    assert _membership(member, acme).has_license
    # The button keeps its id, so htmx gives the keyboard focus back to it after the swap.
    assert f'id="license-{target.pk}"' in body


def test_a_click_unassigns_it_and_without_javascript_the_page_comes_back(
    admin_client, acme, developer
):
    target = _membership(developer, acme)
    response = admin_client.post(
        _license_url(target), {"licensed": "0"}, headers={"X-CSRFToken": admin_client.token}
    )
    assert response.status_code == 302 and response["Location"] == MEMBERS
    assert not _membership(developer, acme).has_license
    page = admin_client.get(MEMBERS).content.decode()
    assert "dev@acme.test no longer holds a licence." in page
    assert re.search(r"<strong>0 of 10</strong> licences assigned", page)


def test_when_every_licence_is_assigned_assign_is_disabled_and_refused(
    admin_client, acme, developer, member
):
    acme.user_licenses = 1
    acme.save()
    page = admin_client.get(MEMBERS).content.decode()
    assert _licence_cells(page)["member@acme.test"] == "Assign (disabled)"
    assert "Every licence is assigned" in page
    response = admin_client.post(
        _license_url(_membership(member, acme)),
        {"licensed": "1"},
        headers=htmx_headers(admin_client.token),
    )
    assert "All 1 licence of Acme MSP are assigned" in response.content.decode()
    assert not _membership(member, acme).has_license


def test_a_bad_choice_is_refused_and_changes_nothing(admin_client, acme, member):
    response = admin_client.post(
        _license_url(_membership(member, acme)),
        {"licensed": "yes"},
        headers=htmx_headers(admin_client.token),
    )
    assert response.status_code == 400
    assert not _membership(member, acme).has_license


def test_licences_are_assigned_by_admins_of_the_same_tenant_only(
    acme, globex, developer, member, outsider, client_for
):
    # A developer is not an admin: 403. An admin of globex does not see acme's members: 404.
    target = _membership(member, acme)
    dev = client_for(developer)
    token = str(dev.get(reverse("apikeys:my_keys", args=["acme"])).context["csrf_token"])
    assert (
        dev.post(_license_url(target), {"licensed": "1"}, headers=htmx_headers(token)).status_code
        == 403
    )
    other = client_for(outsider)
    token = str(other.get(reverse("tenants:members", args=["globex"])).context["csrf_token"])
    for url in (_license_url(target), _license_url(target, slug="globex")):
        response = other.post(url, {"licensed": "1"}, headers=htmx_headers(token))
        assert response.status_code == 404
    assert not _membership(member, acme).has_license
    assert not Event.objects.filter(action=Event.Action.LICENSE_ASSIGNED).exists()


def test_the_licence_form_needs_its_csrf_token(acme, admin, member, client_for):
    client = client_for(admin)
    response = client.post(_license_url(_membership(member, acme)), {"licensed": "1"})
    assert response.status_code == 403
    assert not _membership(member, acme).has_license


# --- The migration --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_licenses_every_developer_and_enough_seats(django_db_blocker):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("tenants", "0006_customer_event_actions")],
        [("tenants", "0007_user_licences")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Tenant = apps.get_model("tenants", "Tenant")
    User = apps.get_model("accounts", "User")
    Member = apps.get_model("tenants", "Membership")
    tenant = Tenant.objects.create(name="Old", slug="old")
    for number, developer in enumerate([True, True, False]):
        user = User.objects.create(email=f"u{number}@old.test")
        Member.objects.create(user=user, tenant=tenant, is_developer=developer)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        apps = executor.loader.project_state(after).apps
        Tenant = apps.get_model("tenants", "Tenant")
        Member = apps.get_model("tenants", "Membership")
        assert Tenant.objects.get(slug="old").user_licenses == 3
        licensed = Member.objects.filter(has_license=True).values_list("is_developer", flat=True)
        assert sorted(licensed) == [True, True]
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )


def test_a_new_member_added_as_developer_still_needs_a_licence(acme, admin):
    added = services.member_add(
        tenant=acme,
        email=UserFactory(email="new@acme.test").email,
        is_admin=False,
        is_developer=True,
        actor=admin,
    )
    assert not added.has_license
