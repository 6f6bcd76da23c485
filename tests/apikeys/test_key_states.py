"""What each key state allows (issue 13): an expired key is renewed with a new expiry date,
never regenerated as it is, rolled, disabled or enabled; a disabled key is not rolled. The
services refuse it whatever the pages offer, and a crafted POST changes nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apikeys import services
from apikeys.models import ApiKey, Status, today
from tenants.models import Event, Membership
from tests.helpers import csrf_token_for, htmx_headers

PROFILE = reverse("apikeys:my_keys", args=["acme"])


@pytest.fixture
def expired(make_key, developer):
    key, _ = make_key(developer, name="Old integration")
    ApiKey.objects.filter(pk=key.pk).update(expires_on=today() - timedelta(days=3))
    key.refresh_from_db()
    return key


@pytest.fixture
def dev_client(developer, client_for):
    client = client_for(developer)
    client.token = csrf_token_for(client, PROFILE)
    return client


def _unchanged(key: ApiKey) -> None:
    before = (key.secret_hash, key.expires_on, key.is_active, key.previous_secret_hash)
    key.refresh_from_db()
    assert (key.secret_hash, key.expires_on, key.is_active, key.previous_secret_hash) == before
    setup = [Event.Action.KEY_CREATED, Event.Action.KEY_DISABLED]
    assert not Event.objects.filter(target_id=key.key_id).exclude(action__in=setup).exists()


def test_an_expired_key_is_not_regenerated_as_it_is(expired, dev_membership):
    with pytest.raises(ValidationError, match="Renew it with a new expiry date"):
        services.api_key_regenerate(key=expired, membership=dev_membership)
    _unchanged(expired)


def test_an_expired_key_is_renewed_with_a_new_expiry_and_its_event(expired, dev_membership):
    dev_membership.tenant.settings.max_expiration_days = 90
    dev_membership.tenant.settings.save()
    old_expiry = expired.expires_on
    key, secret = services.api_key_regenerate(
        key=expired,
        membership=dev_membership,
        renew=True,
        expires_on=today() + timedelta(days=60),
        ip_address="192.0.2.7",
    )
    key.refresh_from_db()
    assert key.status == Status.ACTIVE and key.expires_on == today() + timedelta(days=60)
    assert secret.startswith(f"kw_live_{key.key_id}_") and key.secret_hash != expired.secret_hash
    event = Event.objects.get(action=Event.Action.KEY_REGENERATED)
    assert event.changes == {
        "expires_on": {"before": old_expiry.isoformat(), "after": key.expires_on.isoformat()},
        "renewed": True,
    }
    assert secret not in str(event.changes) and event.ip_address == "192.0.2.7"


@pytest.mark.parametrize(
    ("max_days", "expires_in", "message"),
    [
        (30, 31, "at most 30 days"),
        (30, 0, "must be in the future"),
        (30, -5, "must be in the future"),
        (30, None, "requires an expiry date within 30 days"),
        (None, 0, "must be in the future"),
    ],
)
def test_a_renewal_follows_the_rules_of_a_new_key(
    expired, dev_membership, max_days, expires_in, message
):
    dev_membership.tenant.settings.max_expiration_days = max_days
    dev_membership.tenant.settings.save()
    expires_on = None if expires_in is None else today() + timedelta(days=expires_in)
    with pytest.raises(ValidationError, match=message) as caught:
        services.api_key_regenerate(
            key=expired, membership=dev_membership, renew=True, expires_on=expires_on
        )
    assert list(caught.value.error_dict) == ["expires_on"]
    _unchanged(expired)


def test_without_a_maximum_a_renewed_key_may_never_expire(expired, dev_membership):
    key, _ = services.api_key_regenerate(
        key=expired, membership=dev_membership, renew=True, expires_on=None
    )
    key.refresh_from_db()
    assert key.expires_on is None and key.status == Status.ACTIVE


def test_only_an_expired_key_is_renewed(make_key, developer, dev_membership):
    key, _ = make_key(developer)
    with pytest.raises(ValidationError, match="Only an expired key is renewed"):
        services.api_key_regenerate(
            key=key, membership=dev_membership, renew=True, expires_on=today() + timedelta(days=9)
        )
    _unchanged(key)


def test_an_expired_or_disabled_key_is_not_rolled(expired, make_key, developer, dev_membership):
    deadline = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError, match="Renew it with a new expiry date"):
        services.api_key_roll(key=expired, membership=dev_membership, old_valid_until=deadline)
    _unchanged(expired)
    disabled, _ = make_key(developer, name="Paused")
    services.api_key_disable(key=disabled, membership=dev_membership)
    disabled.refresh_from_db()
    with pytest.raises(ValidationError, match="This key is disabled"):
        services.api_key_roll(key=disabled, membership=dev_membership, old_valid_until=deadline)
    _unchanged(disabled)


def test_a_disabled_key_can_still_be_regenerated_and_stays_disabled(
    make_key, developer, dev_membership
):
    key, _ = make_key(developer)
    services.api_key_disable(key=key, membership=dev_membership)
    key, _ = services.api_key_regenerate(key=key, membership=dev_membership)
    key.refresh_from_db()
    assert key.status == Status.INACTIVE


@pytest.mark.parametrize("write", ["api_key_disable", "api_key_enable"])
def test_an_expired_key_is_neither_disabled_nor_enabled(
    expired, dev_membership, admin_membership, write
):
    for membership in (dev_membership, admin_membership):
        with pytest.raises(ValidationError, match="expired on"):
            getattr(services, write)(key=expired, membership=membership)
    _unchanged(expired)


def test_a_crafted_post_to_regenerate_an_expired_key_changes_nothing_and_says_why(
    dev_client, expired
):
    url = reverse("apikeys:regenerate", args=["acme", expired.key_id])
    response = dev_client.post(url, headers=htmx_headers(dev_client.token))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Renew it with a new expiry date" in body and "kw_live_" not in body
    assert "HX-Trigger" not in response
    _unchanged(expired)


def test_a_crafted_post_to_roll_an_expired_key_changes_nothing_and_says_why(dev_client, expired):
    url = reverse("apikeys:roll", args=["acme", expired.key_id])
    response = dev_client.post(url, {"grace": "24h"}, headers=htmx_headers(dev_client.token))
    body = response.content.decode()
    assert "no working secret to keep" in body and "kw_live_" not in body
    assert 'name="grace"' not in body and "Roll key</button>" not in body
    _unchanged(expired)


def test_a_crafted_post_to_disable_an_expired_key_changes_nothing_and_says_why(dev_client, expired):
    url = reverse("apikeys:disable", args=["acme", expired.key_id])
    body = dev_client.post(url, headers=htmx_headers(dev_client.token)).content.decode()
    assert "changes nothing" in body
    _unchanged(expired)


def test_the_renew_dialog_asks_for_a_date_within_the_maximum_and_issues_the_secret(
    dev_client, expired, acme
):
    acme.settings.max_expiration_days = 45
    acme.settings.save()
    url = reverse("apikeys:regenerate", args=["acme", expired.key_id])
    form = dev_client.get(url, headers=htmx_headers()).content.decode()
    assert "Renew API key" in form and 'name="renew" value="yes"' in form
    assert f'max="{(today() + timedelta(days=45)).isoformat()}"' in form
    too_late = (today() + timedelta(days=46)).isoformat()
    refused = dev_client.post(
        url, {"renew": "yes", "expires_on": too_late}, headers=htmx_headers(dev_client.token)
    )
    assert "at most 45 days" in refused.content.decode()
    _unchanged(expired)
    missing = dev_client.post(url, {"renew": "yes"}, headers=htmx_headers(dev_client.token))
    assert "requires an expiry date within 45 days" in missing.content.decode()
    _unchanged(expired)
    new_expiry = today() + timedelta(days=45)
    done = dev_client.post(
        url,
        {"renew": "yes", "expires_on": new_expiry.isoformat()},
        headers=htmx_headers(dev_client.token),
    )
    assert "no-store" in done["Cache-Control"]
    assert "API key renewed" in done.content.decode()
    expired.refresh_from_db()
    assert expired.expires_on == new_expiry and expired.status == Status.ACTIVE


def _menu(client, key: ApiKey) -> str:
    page = client.get(key.get_absolute_url()).content.decode()
    start = page.index('<details class="menu row-menu">')
    return page[start : page.index("</details>", start)]


def test_each_state_offers_only_its_actions(dev_client, make_key, developer, dev_membership):
    active, _ = make_key(developer, name="On")
    disabled, _ = make_key(developer, name="Off")
    services.api_key_disable(key=disabled, membership=dev_membership)
    expired, _ = make_key(developer, name="Old")
    ApiKey.objects.filter(pk=expired.pk).update(expires_on=today() - timedelta(days=1))
    revoked, _ = make_key(developer, name="Gone")
    services.api_key_revoke(key=revoked, membership=dev_membership)
    offered = {
        key.name: [
            action
            for action in ("Disable", "Enable", "Regenerate", "Roll", "Renew", "Revoke", "Delete")
            if f">{action}</a>" in _menu(dev_client, key)
        ]
        for key in (active, disabled, expired, revoked)
    }
    assert offered == {
        "On": ["Disable", "Regenerate", "Roll", "Revoke", "Delete"],
        "Off": ["Enable", "Regenerate", "Revoke", "Delete"],
        "Old": ["Renew", "Revoke", "Delete"],
        "Gone": ["Delete"],
    }
    assert ">Renew key</a>" in dev_client.get(expired.get_absolute_url()).content.decode()
    assert ">Renew key</a>" not in dev_client.get(active.get_absolute_url()).content.decode()


def test_my_api_keys_has_a_rate_limit_column(dev_client, make_key, developer):
    make_key(developer, rate_limit=250)
    page = dev_client.get(PROFILE).content.decode()
    assert '<th scope="col">Rate limit</th>' in page
    assert '<td data-label="Rate limit" class="nowrap">250/min</td>' in page


def test_an_active_key_of_a_tenant_with_keys_off_says_it_does_not_work(
    dev_client, make_key, developer, dev_membership, acme
):
    active, _ = make_key(developer, name="On")
    disabled, _ = make_key(developer, name="Off")
    services.api_key_disable(key=disabled, membership=dev_membership)
    assert "Not working" not in dev_client.get(PROFILE).content.decode()
    acme.settings.api_keys_enabled = False
    acme.settings.save()
    page = dev_client.get(PROFILE).content.decode()
    assert page.count(">Not working</button>") == 1
    assert f'aria-describedby="blocked-{active.key_id}"' in page
    assert "API keys are disabled in Acme MSP" in page
    assert ">Not working</button>" in dev_client.get(active.get_absolute_url()).content.decode()


def test_a_deactivated_tenant_is_named_as_the_reason(make_key, developer, acme):
    key, _ = make_key(developer)
    membership = Membership.objects.select_related("tenant", "tenant__settings").get(user=developer)
    membership.tenant.is_active = False
    html = render_to_string("apikeys/_status.html", {"key": key, "membership": membership})
    assert ">Not working</button>" in html and "Acme MSP is deactivated" in html
