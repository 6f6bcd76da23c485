"""The leak policy on the Settings page, and a leaked key on the key page, the tables and the
Events page."""

import pytest
from django.urls import reverse

from apikeys import services
from tenants.models import Event, LeakPolicy, TenantSettings
from tests.helpers import csrf_token_for

SETTINGS = reverse("apikeys:settings", args=["acme"])
SOURCE = "https://github.com/acme/site/blob/abc/settings.py#L2"


def test_a_tenant_revokes_leaked_keys_by_default_and_its_admin_chooses_otherwise(
    admin, client_for, acme
):
    assert TenantSettings.objects.get(tenant=acme).leak_policy == LeakPolicy.REVOKE
    client = client_for(admin)
    page = client.get(SETTINGS).content.decode()
    assert 'name="leak_policy"' in page and "Revoke the key at once" in page
    token = csrf_token_for(client, SETTINGS)
    values = {
        "api_keys_enabled": "on",
        "max_expiration_days": "90",
        "max_keys_per_user": "10",
        "default_rate_limit": "60",
    }
    bad = client.post(SETTINGS, values | {"leak_policy": "ignore"}, headers={"X-CSRFToken": token})
    assert bad.status_code == 400
    assert TenantSettings.objects.get(tenant=acme).leak_policy == LeakPolicy.REVOKE
    done = client.post(SETTINGS, values | {"leak_policy": "notify"}, headers={"X-CSRFToken": token})
    assert done.status_code == 302
    assert TenantSettings.objects.get(tenant=acme).leak_policy == LeakPolicy.NOTIFY
    event = Event.objects.filter(action=Event.Action.SETTINGS_CHANGED).latest("id")
    assert event.changes["leak_policy"] == {"before": "revoke", "after": "notify"}


@pytest.fixture
def leaked(new_key, acme, django_capture_on_commit_callbacks):
    acme.settings.leak_policy = LeakPolicy.NOTIFY
    acme.settings.save()
    key = new_key()
    with django_capture_on_commit_callbacks(execute=True):
        services.api_key_report_leak(token=key, source_url=SOURCE, reporter="GitHub")
    return new_key.last


def test_a_leaked_key_shows_the_leaked_badge_with_its_source_on_its_page_and_in_the_tables(
    leaked, admin, developer, client_for
):
    detail = client_for(admin).get(leaked.get_absolute_url()).content.decode()
    console = client_for(admin).get(reverse("apikeys:console", args=["acme"])).content.decode()
    profile = client_for(developer).get(reverse("apikeys:my_keys", args=["acme"]))
    for page in (detail, console, profile.content.decode()):
        assert 'class="badge badge-leaked tip-trigger"' in page
        assert f"at {SOURCE}." in page
    assert "found at" in detail


def test_the_leak_event_is_labelled_and_found_by_key_id_on_the_events_page(
    leaked, admin, client_for
):
    events = reverse("tenants:events", args=["acme"])
    page = client_for(admin).get(events, {"q": leaked.key_id}).content.decode()
    assert "Key reported as leaked" in page and SOURCE in page
