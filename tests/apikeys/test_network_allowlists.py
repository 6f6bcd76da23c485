"""Issue 16, item 4: network allowlists in the portal and on the command line — the key's
settings dialog, the create dialog (prefilled from the tenant default), the tenant's
Settings page, `create_api_key --allow-cidr`, and the parser they share (web.networks)."""

import json
import re
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apikeys import keyformat
from apikeys.models import ApiKey
from tenants.models import Event, TenantSettings
from tests.helpers import csrf_token_for, htmx_headers
from web.networks import MAX_NETWORKS, parse_networks

PROFILE = reverse("apikeys:my_keys", args=["acme"])
CREATE = reverse("apikeys:create", args=["acme"])
SETTINGS = reverse("apikeys:settings", args=["acme"])


def _edit_url(key: ApiKey, slug: str = "acme") -> str:
    return reverse("apikeys:edit", args=[slug, key.key_id])


@pytest.fixture
def dev_client(developer, client_for):
    client = client_for(developer)
    client.token = csrf_token_for(client, PROFILE)
    return client


def _edit(client, key: ApiKey, networks: str):
    data = {
        "name": key.name,
        "description": key.description,
        "rate_limit": str(key.rate_limit),
        "allowed_networks": networks,
    }
    return client.post(_edit_url(key), data, headers=htmx_headers(client.token))


# The parser.


def test_ranges_are_normalised_and_duplicates_collapse_in_their_order():
    assert parse_networks("10.1.2.3\n2001:DB8::/32, 10.1.2.3/32\n\n 192.0.2.0/24 ") == [
        "10.1.2.3/32",
        "2001:db8::/32",
        "192.0.2.0/24",
    ]


def test_an_ipv4_mapped_range_is_stored_as_the_ipv4_range_it_names():
    assert parse_networks("::ffff:10.0.0.0/104\n::ffff:192.0.2.7") == [
        "10.0.0.0/8",
        "192.0.2.7/32",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10.0.0.1/8", "did you mean 10.0.0.0/8?"),
        ("2001:db8::1/32", "did you mean 2001:db8::/32?"),
        ("10.0.0.0/33", "is not an IPv4 or IPv6 address or range"),
        ("example.com", "is not an IPv4 or IPv6 address or range"),
        ("fe80::1%eth0", "is not an IPv4 or IPv6 address or range"),
        ("\uff11\uff10.0.0.0/8", "is not an IPv4 or IPv6 address or range"),
        ("10.0.0.0/8\x00", "is not an IPv4 or IPv6 address or range"),
        ("1" * 5000, "is not an IPv4 or IPv6 address or range"),
    ],
)
def test_a_bad_range_is_refused_naming_it(text, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        parse_networks(text)


def test_more_than_the_maximum_is_refused_but_the_maximum_is_not():
    ranges = [f"10.0.{n}.0/24" for n in range(MAX_NETWORKS + 1)]
    assert len(parse_networks(ranges[:MAX_NETWORKS])) == MAX_NETWORKS
    with pytest.raises(ValidationError, match=f"At most {MAX_NETWORKS} ranges"):
        parse_networks(ranges)
    # Duplicates count once.
    assert len(parse_networks(ranges[:MAX_NETWORKS] * 2)) == MAX_NETWORKS


# The key's settings dialog.


def test_the_settings_dialog_shows_the_allowlist_one_range_a_line(dev_client, make_key, developer):
    key, _ = make_key(developer, allowed_networks=["192.0.2.0/24", "2001:db8::/32"])
    dialog = dev_client.get(_edit_url(key), headers=htmx_headers()).content.decode()
    assert '<label for="edit_allowed_networks">Network allowlist</label>' in dialog
    assert "192.0.2.0/24\n2001:db8::/32</textarea>" in dialog


def test_an_edited_allowlist_is_saved_with_an_event_listing_what_was_added_and_removed(
    dev_client, make_key, developer
):
    key, _ = make_key(developer, allowed_networks=["192.0.2.0/24", "198.51.100.0/24"])
    response = _edit(dev_client, key, "198.51.100.0/24\n2001:db8::/32\n2001:DB8::/32")
    assert response.status_code == 200 and "keyChanged" in response["HX-Trigger"]
    key.refresh_from_db()
    assert key.allowed_networks == ["198.51.100.0/24", "2001:db8::/32"]
    event = Event.objects.get(action=Event.Action.KEY_UPDATED)
    assert event.changes == {
        "allowed_networks": {"added": ["2001:db8::/32"], "removed": ["192.0.2.0/24"]}
    }
    page = dev_client.get(key.get_absolute_url()).content.decode()
    assert "added 2001:db8::/32; removed 192.0.2.0/24" in page
    assert "<li><code>2001:db8::/32</code></li>" in page


def test_a_key_without_an_allowlist_says_it_works_from_any_address(dev_client, make_key, developer):
    key, _ = make_key(developer)
    page = dev_client.get(key.get_absolute_url()).content.decode()
    assert "<dt>Network allowlist</dt><dd>Any address</dd>" in page


def test_an_unchanged_allowlist_writes_no_event(dev_client, make_key, developer):
    key, _ = make_key(developer, allowed_networks=["192.0.2.0/24"])
    _edit(dev_client, key, "192.0.2.0/24")
    assert not Event.objects.filter(action=Event.Action.KEY_UPDATED).exists()


@pytest.mark.parametrize(
    ("networks", "message"),
    [
        ("not-a-range", "&#x27;not-a-range&#x27; is not an IPv4 or IPv6 address or range"),
        ("10.0.0.1/8", "did you mean 10.0.0.0/8?"),
        ("\n".join(f"10.0.{n}.0/24" for n in range(101)), "At most 100 ranges"),
    ],
)
def test_a_bad_allowlist_is_a_field_error_and_changes_nothing(
    dev_client, make_key, developer, networks, message
):
    key, _ = make_key(developer, allowed_networks=["192.0.2.0/24"])
    response = _edit(dev_client, key, networks)
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert message in body
    assert 'id="edit_allowed_networks" aria-invalid="true"' in body or (
        'aria-invalid="true"' in body and "edit_allowed_networks_error" in body
    )
    key.refresh_from_db()
    assert key.allowed_networks == ["192.0.2.0/24"]
    assert not Event.objects.filter(action=Event.Action.KEY_UPDATED).exists()


def test_another_tenants_key_cannot_be_edited(client_for, outsider, make_key, developer):
    key, _ = make_key(developer)
    client = client_for(outsider)
    token = csrf_token_for(client, reverse("apikeys:my_keys", args=["globex"]))
    data = {"name": key.name, "rate_limit": "60", "allowed_networks": "0.0.0.0/0"}
    for slug in ("acme", "globex"):
        response = client.post(_edit_url(key, slug), data, headers={"X-CSRFToken": token})
        assert response.status_code == 404
    key.refresh_from_db()
    assert key.allowed_networks == []


def test_an_admin_cannot_edit_a_developers_allowlist(client_for, admin, make_key, developer):
    key, _ = make_key(developer)
    client = client_for(admin)
    token = csrf_token_for(client, PROFILE)
    data = {"name": key.name, "rate_limit": "60", "allowed_networks": "192.0.2.0/24"}
    response = client.post(_edit_url(key), data, headers={"X-CSRFToken": token})
    assert response.status_code in (403, 404)
    key.refresh_from_db()
    assert key.allowed_networks == []


# The tenant default and the create dialog.


def _set_default(acme, networks: list[str]) -> None:
    TenantSettings.objects.filter(tenant=acme).update(
        default_allowed_networks=networks, max_expiration_days=None
    )


def test_the_create_dialog_starts_from_the_tenants_default(dev_client, acme):
    _set_default(acme, ["192.0.2.0/24", "2001:db8::/32"])
    dialog = dev_client.get(CREATE, headers=htmx_headers()).content.decode()
    assert "192.0.2.0/24\n2001:db8::/32</textarea>" in dialog


def _create(client, **data):
    values = {
        "name": "Shop",
        "environment": "production",
        "scopes": ["customers:read"],
        "rate_limit": "60",
        "expires_on": "",
    } | data
    return client.post(CREATE, values, headers=htmx_headers(client.token))


def test_a_key_is_created_with_the_allowlist_the_dialog_sent(dev_client, acme):
    _set_default(acme, ["192.0.2.0/24"])
    _create(dev_client, allowed_networks="198.51.100.7")
    key = ApiKey.objects.get()
    assert key.allowed_networks == ["198.51.100.7/32"]
    event = Event.objects.get(action=Event.Action.KEY_CREATED)
    assert event.changes["allowed_networks"] == ["198.51.100.7/32"]
    # Cleared in the dialog: the key works from anywhere, whatever the default.
    _create(dev_client, name="Anywhere", allowed_networks="")
    assert ApiKey.objects.get(name="Anywhere").allowed_networks == []


def test_a_bad_range_in_the_create_dialog_is_a_field_error(dev_client, acme):
    _set_default(acme, [])
    response = _create(dev_client, allowed_networks="10.0.0.0/40")
    assert "is not an IPv4 or IPv6 address or range" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_settings_page_saves_and_validates_the_default(admin, client_for, acme):
    client = client_for(admin)
    token = csrf_token_for(client, SETTINGS)
    data = {"api_keys_enabled": "on", "max_keys_per_user": "10", "default_rate_limit": "60"}
    data["max_expiration_days"] = "365"
    bad = client.post(
        SETTINGS, data | {"default_allowed_networks": "10.0.0.1/8"}, headers={"X-CSRFToken": token}
    )
    assert bad.status_code == 400 and "did you mean 10.0.0.0/8?" in bad.content.decode()
    acme.settings.refresh_from_db()
    assert acme.settings.default_allowed_networks == []
    good = client.post(
        SETTINGS,
        data | {"default_allowed_networks": "192.0.2.0/24\n2001:db8::/32"},
        headers={"X-CSRFToken": token},
    )
    assert good.status_code == 302
    acme.settings.refresh_from_db()
    assert acme.settings.default_allowed_networks == ["192.0.2.0/24", "2001:db8::/32"]
    event = Event.objects.get(action=Event.Action.SETTINGS_CHANGED)
    assert event.changes["default_allowed_networks"] == {
        "before": [],
        "after": ["192.0.2.0/24", "2001:db8::/32"],
    }
    page = client.get(SETTINGS).content.decode()
    assert "192.0.2.0/24\n2001:db8::/32</textarea>" in page


def test_a_developer_cannot_set_the_default(dev_client, acme):
    response = dev_client.post(
        SETTINGS,
        {"default_allowed_networks": "0.0.0.0/0"},
        headers={"X-CSRFToken": dev_client.token},
    )
    assert response.status_code == 403
    acme.settings.refresh_from_db()
    assert acme.settings.default_allowed_networks == []


def test_the_key_page_costs_the_same_queries_with_an_allowlist(dev_client, make_key, developer):
    plain, _ = make_key(developer)
    listed, _ = make_key(developer, name="Listed", allowed_networks=["192.0.2.0/24"])
    counts = []
    for key in (plain, listed):
        with CaptureQueriesContext(connection) as queries:
            assert dev_client.get(key.get_absolute_url()).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# The command line.

BASE = [
    "--tenant",
    "acme",
    "--owner",
    "dev@acme.test",
    "--name",
    "CLI key",
    "--environment",
    "staging",
    "--scope",
    "customers:read",
]


def _cli(*args: str) -> ApiKey:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=StringIO())
    return ApiKey.objects.get(key_id=keyformat.parse(out.getvalue().strip()).key_id)


def test_create_api_key_takes_repeated_allow_cidr(developer, acme):
    key = _cli(*BASE, "--allow-cidr", "192.0.2.0/24", "--allow-cidr", "2001:db8::/32")
    assert key.allowed_networks == ["192.0.2.0/24", "2001:db8::/32"]
    event = Event.objects.get(action=Event.Action.KEY_CREATED)
    assert json.dumps(event.changes["allowed_networks"]) == '["192.0.2.0/24", "2001:db8::/32"]'


def test_create_api_key_without_allow_cidr_takes_the_tenants_default(developer, acme):
    TenantSettings.objects.filter(tenant=acme).update(default_allowed_networks=["192.0.2.0/24"])
    assert _cli(*BASE).allowed_networks == ["192.0.2.0/24"]


def test_create_api_key_refuses_a_bad_range(developer, acme):
    with pytest.raises(CommandError, match=re.escape("did you mean 10.0.0.0/8")):
        _cli(*BASE, "--allow-cidr", "10.0.0.1/8")
    assert not ApiKey.objects.exists()
