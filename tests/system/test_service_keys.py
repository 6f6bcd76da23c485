import re
from datetime import timedelta

import pytest
from django.urls import reverse

from apikeys import keyformat
from apikeys.models import ServiceApiKey, Status, today
from tenants.models import Event
from tests.factories import UserFactory
from tests.helpers import csrf_token_for

CHANGELIST = reverse("admin:apikeys_serviceapikey_changelist")
ADD = reverse("admin:apikeys_serviceapikey_add")
CONFIRMATION = (
    "Are you sure you want to revoke the API key for {}? This action cannot be undone and "
    "the service will no longer be able to authenticate."
)


@pytest.fixture
def root_client(root, client_for):
    client = client_for(root)
    client.token = csrf_token_for(client, ADD)
    return client


def _generate(client, **data):
    values = {"service_name": "inventory-service", "description": "", "expires_on": ""} | data
    return client.post(ADD, values, headers={"X-CSRFToken": client.token})


def test_generate_shows_the_secret_once_and_stores_only_its_hash(root_client, caplog):
    response = _generate(root_client, description="Provisioning")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    secret = re.search(r'value="(kw_svc_[^"]+)"', body).group(1)
    assert keyformat.parse(secret).env == "svc"
    assert "It will not be shown again" in body and 'data-copy-target="kw-secret"' in body
    key = ServiceApiKey.objects.get()
    assert key.secret_hash == keyformat.hash_key(secret)
    assert key.status == Status.ACTIVE and key.description == "Provisioning"
    for url in (CHANGELIST, reverse("admin:apikeys_serviceapikey_change", args=[key.pk])):
        assert secret not in root_client.get(url).content.decode()
    event = Event.objects.get(action=Event.Action.SERVICE_KEY_CREATED)
    assert event.target_name == "inventory-service" and secret not in str(event.changes)
    assert secret not in caplog.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"service_name": ""}, "This field is required."),
        ({"description": "x" * 1001}, "at most 1000 characters"),
        ({"expires_on": (today() - timedelta(days=1)).isoformat()}, "must be in the future"),
        ({"expires_on": today().isoformat()}, "must be in the future"),
    ],
)
def test_the_field_rules_hold(root_client, data, message):
    response = _generate(root_client, **data)
    assert message in response.content.decode()
    assert not ServiceApiKey.objects.exists()


def test_the_service_name_is_unique(root_client):
    _generate(root_client)
    response = _generate(root_client, service_name="Inventory-Service")
    assert "already exists" in response.content.decode()
    assert ServiceApiKey.objects.count() == 1


def test_the_list_has_the_columns_filters_and_search(root_client, root):
    from apikeys import services

    services.service_key_create(service_name="erp-sync", description="nightly", actor=root)
    revoked, _ = services.service_key_create(service_name="old-billing", actor=root)
    services.service_key_revoke(key=revoked, actor=root)
    services.service_key_create(
        service_name="crm-bridge", actor=root, expires_on=today() + timedelta(days=3)
    )
    page = root_client.get(CHANGELIST).content.decode()
    for text in ("Generate New API Key", "Active", "Revoked", "Expiring soon", "Last used"):
        assert text in page, text
    revoked_only = root_client.get(CHANGELIST + "?status=revoked").content.decode()
    assert "old-billing" in revoked_only and "erp-sync" not in revoked_only
    soon_only = root_client.get(CHANGELIST + "?expiration=expiring_soon").content.decode()
    assert "crm-bridge" in soon_only and "erp-sync" not in soon_only
    searched = root_client.get(CHANGELIST + "?q=nightly").content.decode()
    assert "erp-sync" in searched and "crm-bridge" not in searched
    # Only active keys offer "Revoke Key" in their row menu.
    assert page.count("Revoke Key") == 2


def test_revoke_asks_with_the_exact_sentence_then_revokes(root_client, root):
    from apikeys import services

    key, _ = services.service_key_create(service_name="erp-sync", actor=root)
    url = reverse("admin:apikeys_serviceapikey_revoke", args=[key.pk])
    confirm = root_client.get(url).content.decode()
    assert CONFIRMATION.format("erp-sync") in confirm
    key.refresh_from_db()
    assert key.status == Status.ACTIVE
    response = root_client.post(url, headers={"X-CSRFToken": root_client.token})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.status == Status.REVOKED and key.revoked_by == root
    assert Event.objects.filter(action=Event.Action.SERVICE_KEY_REVOKED).count() == 1
    again = root_client.post(url, headers={"X-CSRFToken": root_client.token}, follow=True)
    assert "already revoked" in again.content.decode()


def test_nothing_in_the_admin_reactivates_or_rewrites_a_key(root_client, root):
    from apikeys import services

    key, _ = services.service_key_create(service_name="erp-sync", actor=root)
    services.service_key_revoke(key=key, actor=root)
    change = reverse("admin:apikeys_serviceapikey_change", args=[key.pk])
    page = root_client.get(change).content.decode()
    assert 'name="revoked_at"' not in page and 'name="secret_hash"' not in page
    assert 'name="service_name"' not in page and 'name="description"' in page
    root_client.post(
        change,
        {"description": "new", "revoked_at": "", "secret_hash": "x", "service_name": "other"},
        headers={"X-CSRFToken": root_client.token},
    )
    key.refresh_from_db()
    assert key.status == Status.REVOKED and key.description == "new"
    assert key.service_name == "erp-sync" and key.secret_hash != "x"


def test_a_used_key_cannot_be_deleted(root_client, root):
    from django.utils import timezone

    from apikeys import services

    unused, _ = services.service_key_create(service_name="never-used", actor=root)
    used, _ = services.service_key_create(service_name="used", actor=root)
    ServiceApiKey.objects.filter(pk=used.pk).update(last_used_at=timezone.now())
    delete = "admin:apikeys_serviceapikey_delete"
    assert root_client.get(reverse(delete, args=[used.pk])).status_code == 403
    assert root_client.get(reverse(delete, args=[unused.pk])).status_code == 200


def test_only_superusers_reach_service_keys(personas, client_for):
    for persona in ("admin", "developer", "member", "outsider"):
        assert client_for(personas[persona]).get(CHANGELIST).status_code == 302
    staff = UserFactory(is_staff=True)
    assert client_for(staff).get(ADD).status_code == 302


def test_the_system_sign_in_is_the_portals_throttled_sign_in(root, client_for, settings):
    # The admin's own form is gone: its login page sends to the portal's two-step sign-in.
    response = client_for(None).get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2Fsystem%2F"
    login = reverse("login")

    def attempt(password: str, ip: str):
        client = client_for(None)
        token = csrf_token_for(client, login)
        return client.post(
            login,
            {"username": "root@keyward.test", "password": password},
            headers={"X-CSRFToken": token},
            REMOTE_ADDR=ip,
        )

    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt("wrong", f"10.9.0.{n}")
    assert attempt("correct-horse-battery", "10.9.1.1").status_code == 429
