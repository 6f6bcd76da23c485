"""The profile says which of the three requirements for generating keys is missing and who can
fix it (seed 003); the user menu leads there; the admin's Overview has API keys and Settings
cards whose cost does not grow with the number of keys."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenants.models import Membership
from tests.factories import MembershipFactory, UserFactory, api_key, lift_key_limits

PROFILE = reverse("apikeys:my_keys", args=["acme"])
HOME = reverse("tenants:home", args=["acme"])
CREATE_BUTTON = ">Create API key</a>"


def _requirements(page: str) -> dict[str, str]:
    """Each requirement of the profile's note and its state (Done or Missing)."""
    items = re.findall(
        r'requirement-state">(\w+)</span>\s*<span><strong>([^<]+)</strong>', page, re.S
    )
    return {name: state for state, name in items}


def test_a_plain_member_sees_every_missing_requirement_and_the_admins_to_ask(
    acme, admin, member, client_for
):
    MembershipFactory(tenant=acme, user=UserFactory(email="second@acme.test"), is_admin=True)
    page = client_for(member).get(PROFILE).content.decode()
    assert "You cannot generate API keys yet." in page
    assert "Two of the three requirements are missing" in page
    assert _requirements(page) == {
        "A licence": "Missing",
        "The developer role": "Missing",
        "API keys enabled for Acme MSP": "Done",
    }
    assert "a tenant admin assigns it." in page  # the developer role: item 11's hint
    assert (
        'Ask a tenant admin of Acme MSP: <a href="mailto:admin@acme.test">admin@acme.test</a>, '
        '<a href="mailto:second@acme.test">second@acme.test</a>.'
    ) in page
    assert CREATE_BUTTON not in page
    assert reverse("tenants:members", args=["acme"]) not in page


def test_a_developer_without_a_licence_is_told_exactly_that(acme, admin, developer, client_for):
    Membership.objects.filter(user=developer).update(has_license=False)
    page = client_for(developer).get(PROFILE).content.decode()
    assert "One of the three requirements is missing" in page
    assert _requirements(page) == {
        "A licence": "Missing",
        "The developer role": "Done",
        "API keys enabled for Acme MSP": "Done",
    }
    assert "<dt>Licence</dt><dd>None</dd>" in page
    assert CREATE_BUTTON not in page and "No API keys yet." in page


def test_a_disabled_tenant_is_named_as_what_is_missing(acme, developer, client_for):
    acme.settings.api_keys_enabled = False
    acme.settings.save()
    page = client_for(developer).get(PROFILE).content.decode()
    assert _requirements(page)["API keys enabled for Acme MSP"] == "Missing"
    assert "a tenant admin turns them on in Settings." in page


def test_an_admin_who_is_not_a_developer_gets_links_to_fix_it_themselves(acme, admin_client):
    acme.settings.api_keys_enabled = False
    acme.settings.save()
    page = admin_client.get(PROFILE).content.decode()
    assert "All three requirements are missing" in page
    members, settings = (
        reverse(f"{n}", args=["acme"]) for n in ("tenants:members", "apikeys:settings")
    )
    assert f'assign yourself one on the <a href="{members}">Members page</a>' in page
    assert "as a tenant admin you can give it to yourself" in page
    assert f'Enable API keys in <a href="{settings}">Settings</a>' in page
    assert "Ask a tenant admin" not in page


def test_a_licensed_developer_sees_the_create_button_and_no_note(developer, client_for):
    page = client_for(developer).get(PROFILE).content.decode()
    assert CREATE_BUTTON in page
    assert "key-requirements" not in page
    assert "<dt>Licence</dt><dd>Assigned</dd>" in page


def test_the_admins_are_named_only_when_something_is_missing(developer, client_for):
    client = client_for(developer)
    client.get(PROFILE)
    with CaptureQueriesContext(connection) as queries:
        client.get(PROFILE)
    filters = [q["sql"].split(" WHERE ")[-1] for q in queries.captured_queries]
    assert not any("is_admin" in where for where in filters)


# --- The user menu --------------------------------------------------------------------------


def test_the_user_menu_has_profile_settings_leading_to_the_api_keys(developer, client_for):
    client = client_for(developer)
    for url in (HOME, reverse("password_change")):
        page = client.get(url).content.decode()
        menu = page.split('class="menu user-menu"')[1].split("</details>")[0]
        assert f'<a href="{PROFILE}">Profile settings</a>' in menu


def test_someone_in_no_tenant_has_no_profile_settings(root, client_for):
    page = client_for(root).get(reverse("password_change")).content.decode()
    assert "Profile settings" not in page


# --- The Overview ---------------------------------------------------------------------------


def _counts(page: str) -> dict[str, int]:
    return {
        name: int(number)
        for name, number in re.findall(r"<div><dt>(\w+)</dt><dd>(\d+)</dd></div>", page)
    }


def test_the_admins_overview_counts_keys_by_status_and_shows_the_settings(
    acme, admin_client, developer, new_key
):
    from apikeys import services as key_services

    new_key()
    new_key()
    membership = Membership.objects.get(user=developer)
    key_services.api_key_disable(key=new_key.last, membership=membership)
    new_key()
    key_services.api_key_revoke(key=new_key.last, membership=membership)
    page = admin_client.get(HOME).content.decode()
    assert _counts(page) == {"Active": 1, "Inactive": 1, "Expired": 0, "Revoked": 1}
    assert "3 keys in all." in page
    assert f'href="{reverse("apikeys:console", args=["acme"])}"' in page
    settings = page.split('id="overview-settings-title"')[1].split("</section>")[0]
    assert "<dt>API keys</dt><dd>Enabled</dd>" in settings
    assert "<dt>Maximum expiration</dt><dd>No maximum</dd>" in settings  # lifted by new_key
    assert "<dt>Keys per user</dt><dd>At most 1000</dd>" in settings
    assert "<dt>Licences</dt><dd>1 of 10 assigned" in settings
    assert f'href="{reverse("apikeys:settings", args=["acme"])}"' in settings


def test_a_developer_overview_has_no_admin_cards(developer, client_for):
    page = client_for(developer).get(HOME).content.decode()
    assert "overview-keys-title" not in page and "overview-settings-title" not in page
    assert "API keys in this tenant" in page


@pytest.mark.parametrize("keys", [1, 12])
def test_the_overview_costs_the_same_queries_however_many_keys(
    acme, admin, developer, client_for, keys
):
    lift_key_limits(acme)
    membership = Membership.objects.get(user=developer)
    for number in range(keys):
        api_key(membership, name=f"Key {number}")
    client = client_for(admin)
    client.get(HOME)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    # Session, user, membership, the switcher, the licence count and one aggregate of keys.
    assert len(queries.captured_queries) == OVERVIEW_QUERIES, [
        q["sql"] for q in queries.captured_queries
    ]


OVERVIEW_QUERIES = 6
