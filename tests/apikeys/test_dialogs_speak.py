"""Issue 13, the dialogs: every create error at once and the first one announced, the quota
before the form, a key's settings (rate limit included) editable by its owner, the tenant
settings' one range per number, the Provider API key replaced only when confirmed, and one-time
secrets that close only after "I've made a copy"."""

import json
import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from apikeys import services
from apikeys.models import MAX_RATE_LIMIT, ApiKey, ProviderKey, ServiceApiKey
from tenants.models import Event, Membership, TenantSettings
from tests.factories import api_key
from tests.helpers import csrf_token_for, htmx_headers

PROFILE = reverse("apikeys:my_keys", args=["acme"])
CREATE = reverse("apikeys:create", args=["acme"])
SETTINGS = reverse("apikeys:settings", args=["acme"])
PROVIDER = reverse("apikeys:provider", args=["acme"])
GENERATE = reverse("apikeys:provider_generate", args=["acme"])


@pytest.fixture
def dev_client(developer, client_for):
    client = client_for(developer)
    client.token = csrf_token_for(client, PROFILE)
    return client


def _create(client, **data):
    values = {
        "name": "Main Website Integration",
        "environment": "production",
        "scopes": ["customers:read"],
        "rate_limit": "60",
        "expires_on": (date.today() + timedelta(days=30)).isoformat(),
    } | data
    return client.post(CREATE, values, headers=htmx_headers(client.token))


# --- Item 2: errors in view, all at once, the quota first ---------------------------------


def test_a_long_description_and_a_past_expiry_are_refused_together(dev_client):
    body = _create(
        dev_client, description="d" * 1001, expires_on="2020-01-01", customer_scope="cus_nope"
    ).content.decode()
    assert "at most 1000 characters" in body
    assert "The expiry date must be in the future." in body
    assert "Choose customers of this tenant" in body
    assert not ApiKey.objects.exists()


def test_a_name_the_service_refuses_shows_beside_the_other_field_errors(dev_client):
    body = _create(dev_client, name="Main\u202e", rate_limit="0").content.decode()
    assert 'id="id_name_error"' in body and 'id="id_rate_limit_error"' in body
    assert not ApiKey.objects.exists()


def test_field_errors_are_announced_in_one_alert_naming_each_field(dev_client):
    body = _create(dev_client, name="", expires_on="2020-01-01").content.decode()
    alert = re.search(r'<p class="visually-hidden" role="alert">(.*?)</p>', body, re.S).group(1)
    assert alert.startswith("2 fields to correct:")
    assert alert.endswith(" Name. Expires on.")


def test_the_quota_counts_what_the_cap_counts(dev_client, developer, acme):
    membership = Membership.objects.get(user=developer)
    soon = date.today() + timedelta(days=30)
    kept, _ = api_key(membership, expires_on=soon)
    gone, _ = api_key(membership, name="Gone", expires_on=soon)
    services.api_key_revoke(key=gone, membership=membership)
    ApiKey.objects.filter(pk=kept.pk).update(expires_on=date.today() - timedelta(days=1))
    body = dev_client.get(CREATE, headers=htmx_headers()).content.decode()
    # The expired key still counts (it is not revoked); the revoked one does not.
    assert "1 of 10 keys used" in body
    assert services.keys_held(tenant=acme, user_id=developer.pk) == 1
    assert body.index('id="key-quota"') < body.index('name="name"')
    assert "You have reached" not in body


def test_at_the_cap_the_dialog_says_so_before_the_form_and_the_refusal_takes_the_focus(
    dev_client, developer, acme
):
    acme.settings.max_keys_per_user = 1
    acme.settings.save()
    api_key(Membership.objects.get(user=developer), expires_on=date.today() + timedelta(days=9))
    form = dev_client.get(CREATE, headers=htmx_headers()).content.decode()
    assert "1 of 1 keys used" in form
    assert "maximum of 1 API keys per user" in form
    refused = _create(dev_client, name="Second").content.decode()
    summary = re.search(r"<div ([^>]*data-error-summary[^>]*)>(.*?)</div>", refused, re.S)
    assert 'role="alert"' in summary.group(1) and 'tabindex="-1"' in summary.group(1)
    assert "maximum of 1 API keys per user" in summary.group(2)
    assert refused.count("maximum of 1 API keys per user") == 1  # the warning steps aside
    assert ApiKey.objects.count() == 1


# --- Item 8: the owner edits a key's rate limit ---------------------------------------------


@pytest.fixture
def owned(developer, acme):
    key, _ = api_key(
        Membership.objects.get(user=developer),
        expires_on=date.today() + timedelta(days=30),
        rate_limit=60,
    )
    return key


def _edit(key, membership, **values):
    return services.api_key_update(
        key=key,
        membership=membership,
        name=values.pop("name", key.name),
        description=values.pop("description", key.description),
        **values,
    )


def test_the_owner_raises_the_rate_limit_and_the_event_says_before_and_after(owned, developer):
    membership = Membership.objects.get(user=developer)
    _edit(owned, membership, rate_limit=600, ip_address="203.0.113.9")
    owned.refresh_from_db()
    assert owned.rate_limit == 600
    event = Event.objects.get(action=Event.Action.KEY_UPDATED)
    assert event.changes == {"rate_limit": {"before": 60, "after": 600}}
    assert event.target_id == owned.key_id and event.actor == developer
    assert event.get_action_display() == "Key settings changed"


def test_a_rename_alone_is_still_a_rename(owned, developer):
    _edit(owned, Membership.objects.get(user=developer), name="New name", rate_limit=60)
    assert Event.objects.filter(action=Event.Action.KEY_RENAMED).count() == 1
    assert not Event.objects.filter(action=Event.Action.KEY_UPDATED).exists()


@pytest.mark.parametrize("rate_limit", [0, -5, MAX_RATE_LIMIT + 1])
def test_a_rate_limit_outside_the_create_range_is_refused_and_nothing_changes(
    owned, developer, rate_limit
):
    with pytest.raises(ValidationError) as refused:
        _edit(owned, Membership.objects.get(user=developer), name="Other", rate_limit=rate_limit)
    assert refused.value.message_dict == {"rate_limit": [services.RATE_LIMIT_MESSAGE]}
    owned.refresh_from_db()
    assert (owned.name, owned.rate_limit) == ("Integration", 60)
    assert not Event.objects.filter(action__in=["key.updated", "key.renamed"]).exists()


def test_the_edges_of_the_range_are_accepted(owned, developer):
    membership = Membership.objects.get(user=developer)
    for limit in (1, MAX_RATE_LIMIT):
        _edit(owned, membership, rate_limit=limit)
        owned.refresh_from_db()
        assert owned.rate_limit == limit


def test_only_the_owner_edits_a_key(owned, admin, acme, outsider):
    admin_membership = Membership.objects.get(user=admin)
    with pytest.raises(PermissionDenied):
        _edit(owned, admin_membership, rate_limit=5)
    with pytest.raises(PermissionDenied):
        _edit(owned, Membership.objects.get(user=outsider), rate_limit=5)
    owned.refresh_from_db()
    assert owned.rate_limit == 60


def test_the_edit_view_refuses_another_owner_and_another_tenant(owned, admin, outsider, client_for):
    url = reverse("apikeys:edit", args=["acme", owned.key_id])
    for user, slug in ((admin, "acme"), (outsider, "globex")):
        client = client_for(user)
        token = csrf_token_for(client, reverse("apikeys:api_guide", args=[slug]))
        response = client.post(
            url,
            {"name": "Taken", "description": "", "rate_limit": "1"},
            headers={"X-CSRFToken": token},
        )
        assert response.status_code in (403, 404)
    owned.refresh_from_db()
    assert owned.rate_limit == 60


def test_the_edit_dialog_shows_and_saves_the_rate_limit(owned, dev_client):
    url = reverse("apikeys:edit", args=["acme", owned.key_id])
    dialog = dev_client.get(url, headers=htmx_headers()).content.decode()
    assert "Edit settings" in dialog
    assert re.search(r'name="rate_limit" value="60" min="1" max="100000"', dialog)
    assert f"From 1 to {MAX_RATE_LIMIT:,} requests per minute." in dialog
    bad = dev_client.post(
        url,
        {"name": owned.name, "description": "", "rate_limit": "0"},
        headers=htmx_headers(dev_client.token),
    ).content.decode()
    assert services.RATE_LIMIT_MESSAGE in bad and 'aria-invalid="true"' in bad
    done = dev_client.post(
        url,
        {"name": owned.name, "description": "", "rate_limit": "120"},
        headers=htmx_headers(dev_client.token),
    )
    assert list(json.loads(done["HX-Trigger"])) == ["keyChanged", "closeModal"]
    owned.refresh_from_db()
    assert owned.rate_limit == 120
    page = dev_client.get(owned.get_absolute_url()).content.decode()
    assert "120 requests per minute" in page and "60 → 120" in page


def test_the_create_form_states_the_same_rate_limit_range(dev_client):
    form = dev_client.get(CREATE, headers=htmx_headers()).content.decode()
    assert re.search(r'name="rate_limit" value="60" min="1" max="100000"', form)
    assert f"From 1 to {MAX_RATE_LIMIT:,} requests per minute." in form
    assert services.RATE_LIMIT_MESSAGE in _create(dev_client, rate_limit="0").content.decode()


# --- Item 11: one range per settings number -------------------------------------------------


def _range(name: str) -> tuple[int, int]:
    from django.core.validators import MaxValueValidator, MinValueValidator

    validators = TenantSettings._meta.get_field(name).validators
    low = next(v.limit_value for v in validators if isinstance(v, MinValueValidator))
    high = next(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
    return low, high


BOUNDED = ["max_expiration_days", "max_keys_per_user", "default_rate_limit"]


@pytest.mark.parametrize("name", BOUNDED)
def test_each_setting_states_one_range_in_its_input_help_and_every_error(
    admin, client_for, acme, name
):
    low, high = _range(name)
    client = client_for(admin)
    page = client.get(SETTINGS).content.decode()
    token = csrf_token_for(client, SETTINGS)
    assert re.search(rf'name="{name}" value="\d+" min="{low}" max="{high}"', page)
    help_text = re.search(rf'id="id_{name}_helptext">(.*?)</div>', page).group(1)
    assert help_text.startswith(f"From {low:,} to {high:,} ")
    message = f"Enter a whole number from {low:,} to {high:,}."
    values = {
        "api_keys_enabled": "on",
        "max_expiration_days": "90",
        "max_keys_per_user": "10",
        "default_rate_limit": "60",
    }
    # The case: -5 and then 0 gave "≥ 0" and then "≥ 1".
    for bad in ("-5", str(low - 1), str(high + 1), "many"):
        response = client.post(SETTINGS, values | {name: bad}, headers={"X-CSRFToken": token})
        assert response.status_code == 400
        errors = re.search(rf'id="id_{name}_error">(.*?)</ul>', response.content.decode())
        assert errors.group(1) == f"<li>{message}</li>", bad
    for good in (str(low), str(high)):
        response = client.post(SETTINGS, values | {name: good}, headers={"X-CSRFToken": token})
        assert response.status_code == 302, good


# --- Item 5: Generate Private Key while one is active ---------------------------------------


@pytest.fixture
def admin_client_acme(admin, client_for):
    client = client_for(admin)
    client.token = csrf_token_for(client, PROVIDER)
    return client


def _active() -> ProviderKey:
    return ProviderKey.objects.get(revoked_at__isnull=True)


def test_without_an_active_key_generate_needs_no_confirmation(admin_client_acme):
    # Nothing to confirm: a GET goes back to the page, a POST generates.
    assert admin_client_acme.get(GENERATE).status_code == 302
    response = admin_client_acme.post(GENERATE, headers={"X-CSRFToken": admin_client_acme.token})
    assert "BEGIN PRIVATE KEY" in response.content.decode()
    assert ProviderKey.objects.count() == 1


def test_with_an_active_key_a_post_without_confirmation_replaces_nothing(admin_client_acme):
    admin_client_acme.post(GENERATE, headers={"X-CSRFToken": admin_client_acme.token})
    live = _active()
    for data in ({}, {"replaces": ""}, {"replaces": "pk_0000000000000000"}):
        response = admin_client_acme.post(
            GENERATE, data, headers={"X-CSRFToken": admin_client_acme.token}
        )
        body = response.content.decode()
        assert "BEGIN PRIVATE KEY" not in body
        assert f"Integrations signing with key <code>{live.kid}</code>" in body
        assert "will stop working at once" in body
    assert _active() == live and ProviderKey.objects.count() == 1
    assert Event.objects.filter(action=Event.Action.PROVIDER_KEY_REVOKED).count() == 0


def test_the_confirmation_names_the_key_and_replacing_needs_its_kid(admin_client_acme):
    admin_client_acme.post(GENERATE, headers={"X-CSRFToken": admin_client_acme.token})
    live = _active()
    page = admin_client_acme.get(PROVIDER).content.decode()
    # The page's button now asks first (a dialog), rather than posting.
    assert f'hx-get="{GENERATE}"' in page
    dialog = admin_client_acme.get(GENERATE, headers=htmx_headers()).content.decode()
    assert dialog.lstrip().startswith("<dialog")
    assert live.kid in dialog and f"{live.created_at:%Y-%m-%d %H:%M} UTC" in dialog
    assert f'name="replaces" value="{live.kid}"' in dialog
    assert "hx-post" not in dialog  # its answer is the page that shows the private key
    response = admin_client_acme.post(
        GENERATE, {"replaces": live.kid}, headers={"X-CSRFToken": admin_client_acme.token}
    )
    assert "BEGIN PRIVATE KEY" in response.content.decode()
    live.refresh_from_db()
    assert live.revoked_at is not None and _active() != live


# --- Item 7: the one-time secret needs its acknowledgement -----------------------------------


def test_the_tenant_key_secret_dialog_closes_only_through_the_acknowledgement(dev_client):
    body = _create(dev_client).content.decode()
    assert "data-acknowledges" in body and 'data-enables="secret-done"' in body
    assert "I've made a copy of this API key" in body
    assert re.search(r'<button type="submit" id="secret-done"[^>]*data-close-modal', body)
    assert ">Close</a>" not in body


def test_the_service_key_pages_use_the_admins_breadcrumbs_and_the_acknowledgement(client_for, root):
    client = client_for(root)
    token = csrf_token_for(client, reverse("admin:apikeys_serviceapikey_add"))
    response = client.post(
        reverse("admin:apikeys_serviceapikey_add"),
        {"service_name": "billing_sync", "description": "", "expires_on": "", "_save": "1"},
        headers={"X-CSRFToken": token},
    )
    body = response.content.decode()
    assert '<ol class="breadcrumbs">' in body and 'class="breadcrumbs"' in body
    assert '<div class="breadcrumbs">' not in body
    assert re.search(r'data-copy-target="kw-secret"[^>]*>Copy</button>', body)
    assert 'data-enables="kw-done"' in body and "I've made a copy of this key" in body
    key = ServiceApiKey.objects.get()
    revoke = client.get(reverse("admin:apikeys_serviceapikey_revoke", args=[key.pk]))
    assert '<ol class="breadcrumbs">' in revoke.content.decode()
