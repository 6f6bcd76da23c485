"""SECURITY.md 23: the system admin site changes state only through the services. Each admin
action writes its event and holds for the very next API request in every worker (two
`Verifier`s stand for two worker processes, as in tests/gateway/test_immediacy.py)."""

import pytest
from django.db.models.signals import post_save
from django.urls import reverse

from apikeys.models import ApiKey, ServiceApiKey
from apikeys.services import service_key_create
from gateway.verification import Verified, Verifier
from tenants.models import Event, Membership, Tenant
from tests.factories import UserFactory
from tests.helpers import admin_form_data, csrf_token_for

pytestmark = pytest.mark.django_db(transaction=True)  # real commits, so on_commit runs


@pytest.fixture
def root_client(root, client_for):
    return client_for(root)


@pytest.fixture
def warm_key(new_key):
    """A working key of acme's developer, already cached by two workers."""
    secret = new_key()
    workers = (Verifier(), Verifier())
    for worker in workers:
        assert isinstance(worker.verify(secret, "production"), Verified)

    def works() -> list[bool]:
        return [isinstance(w.verify(secret, "production"), Verified) for w in workers]

    return works


def _post_change(client, url: str, **changes: str | None) -> object:
    token = csrf_token_for(client, url)
    data = admin_form_data(client.get(url))
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(url, data, headers={"X-CSRFToken": token})


def _membership_row(response, membership: Membership) -> int:
    for inline in response.context["inline_admin_formsets"]:
        for number, form in enumerate(inline.formset.initial_forms):
            if form.instance.pk == membership.pk:
                return number
    raise AssertionError("no such row")


def test_deleting_a_membership_on_its_page_revokes_the_members_keys(
    root_client, warm_key, developer, admin
):
    membership = Membership.objects.get(user=developer)
    url = reverse("admin:tenants_membership_delete", args=[membership.pk])
    token = csrf_token_for(root_client, url)
    response = root_client.post(url, {"post": "yes"}, headers={"X-CSRFToken": token})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert Event.objects.filter(action=Event.Action.MEMBER_REMOVED).count() == 1
    assert ApiKey.objects.get().revoked_at is not None
    assert Event.objects.get(action=Event.Action.KEY_REVOKED).changes == {"via": "member removed"}
    assert warm_key() == [False, False]


def test_removing_a_member_in_the_tenants_inline_revokes_their_keys(
    root_client, warm_key, developer, admin, acme
):
    url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    row = _membership_row(root_client.get(url), Membership.objects.get(user=developer))
    response = _post_change(root_client, url, **{f"memberships-{row}-DELETE": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not Membership.objects.filter(user=developer).exists()
    assert Event.objects.filter(action=Event.Action.MEMBER_REMOVED).count() == 1
    assert warm_key() == [False, False]


def test_the_bulk_delete_action_removes_members_through_the_service(
    root_client, warm_key, developer, admin
):
    url = reverse("admin:tenants_membership_changelist")
    token = csrf_token_for(root_client, url)
    membership = Membership.objects.get(user=developer)
    response = root_client.post(
        url,
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 302
    assert Event.objects.filter(action=Event.Action.MEMBER_REMOVED).count() == 1
    assert warm_key() == [False, False]


def test_deactivating_a_tenant_in_the_admin_writes_its_event_and_stops_its_keys(
    root_client, warm_key, acme, admin
):
    url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    response = _post_change(root_client, url, is_active=None)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(action=Event.Action.TENANT_DEACTIVATED)
    assert event.actor.email == "root@keyward.test" and event.changes == {"via": "system admin"}
    assert warm_key() == [False, False]
    response = _post_change(root_client, url, is_active="on")
    assert Event.objects.filter(action=Event.Action.TENANT_ACTIVATED).count() == 1
    assert warm_key() == [True, True]


def test_switching_api_keys_off_in_the_settings_inline_stops_the_keys_at_once(
    root_client, warm_key, acme, admin
):
    url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    response = _post_change(root_client, url, **{"settings-0-api_keys_enabled": None})
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(action=Event.Action.SETTINGS_CHANGED)
    assert event.changes["api_keys_enabled"] == {"before": True, "after": False}
    assert warm_key() == [False, False]


def test_renaming_a_tenant_writes_an_event_and_its_slug_cannot_change(root_client, acme, admin):
    url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    response = _post_change(root_client, url, name="Acme Holdings", slug="hijacked")
    assert response.status_code == 302, response.content.decode()[:3000]
    acme.refresh_from_db()
    assert (acme.name, acme.slug) == ("Acme Holdings", "acme")
    event = Event.objects.get(action=Event.Action.TENANT_RENAMED)
    assert event.changes["name"] == {"before": "Acme MSP", "after": "Acme Holdings"}


def test_a_role_change_in_the_admin_writes_its_event(root_client, developer, admin):
    membership = Membership.objects.get(user=developer)
    url = reverse("admin:tenants_membership_change", args=[membership.pk])
    response = _post_change(root_client, url, is_admin="on")
    assert response.status_code == 302, response.content.decode()[:3000]
    membership.refresh_from_db()
    assert membership.is_admin and membership.is_developer
    event = Event.objects.get(action=Event.Action.ROLE_CHANGED)
    assert event.changes["roles"] == {"before": ["developer"], "after": ["admin", "developer"]}


def test_a_member_added_in_the_admin_writes_its_event(root_client, acme, admin):
    newcomer = UserFactory(email="new@acme.test")
    url = reverse("admin:tenants_membership_add")
    token = csrf_token_for(root_client, url)
    response = root_client.post(
        url,
        {"user": newcomer.pk, "tenant": acme.pk, "is_developer": "on"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Membership.objects.get(user=newcomer).is_developer
    assert Event.objects.get(action=Event.Action.MEMBER_ADDED).target_name == "new@acme.test"


def test_the_last_admin_can_be_neither_demoted_nor_removed_in_the_admin(root_client, acme, admin):
    membership = Membership.objects.get(user=admin)
    tenant_url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    row = _membership_row(root_client.get(tenant_url), membership)
    for change in ({f"memberships-{row}-DELETE": "on"}, {f"memberships-{row}-is_admin": None}):
        response = _post_change(root_client, tenant_url, **change)
        assert response.status_code == 200
        assert "A tenant keeps at least one admin" in response.content.decode()
    page = reverse("admin:tenants_membership_change", args=[membership.pk])
    response = _post_change(root_client, page, is_admin=None)
    assert "The last admin of a tenant cannot lose the admin role." in response.content.decode()
    delete = reverse("admin:tenants_membership_delete", args=[membership.pk])
    assert root_client.get(delete).status_code == 403
    membership.refresh_from_db()
    assert membership.is_admin
    assert not Event.objects.filter(action__startswith="member.").exists()


def test_a_tenant_made_in_the_admin_writes_its_events(root_client, db):
    boss = UserFactory(email="boss@initech.test")
    url = reverse("admin:tenants_tenant_add")
    token = csrf_token_for(root_client, url)
    data = {
        "name": "Initech",
        "slug": "initech",
        "is_active": "on",
        "settings-TOTAL_FORMS": "1",
        "settings-INITIAL_FORMS": "0",
        "settings-0-api_keys_enabled": "on",
        "settings-0-max_keys_per_user": "10",
        "settings-0-default_rate_limit": "600",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(boss.pk),
        "memberships-0-is_admin": "on",
    }
    response = root_client.post(url, data, headers={"X-CSRFToken": token})
    assert response.status_code == 302, response.content.decode()[:3000]
    tenant = Tenant.objects.get(slug="initech")
    assert tenant.settings.api_keys_enabled
    actions = set(Event.objects.filter(tenant=tenant).values_list("action", flat=True))
    assert actions == {"tenant.created", "settings.changed", "member.added"}


def test_tenants_are_never_deleted_in_the_admin(root_client, acme):
    url = reverse("admin:tenants_tenant_delete", args=[acme.pk])
    assert root_client.get(url).status_code == 403


def test_a_service_keys_description_edit_and_deletion_write_events(root_client, root):
    key, _ = service_key_create(service_name="inventory", actor=root)
    url = reverse("admin:apikeys_serviceapikey_change", args=[key.pk])
    token = csrf_token_for(root_client, url)
    response = root_client.post(
        url, {"description": "Reads tenants."}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(action=Event.Action.SERVICE_KEY_UPDATED)
    assert event.changes["description"] == {"before": "", "after": "Reads tenants."}
    delete = reverse("admin:apikeys_serviceapikey_delete", args=[key.pk])
    response = root_client.post(delete, {"post": "yes"}, headers={"X-CSRFToken": token})
    assert response.status_code == 302
    assert not ServiceApiKey.objects.exists()
    assert Event.objects.get(action=Event.Action.SERVICE_KEY_DELETED).target_id == key.key_id


def test_no_key_state_rides_on_model_signals():
    # `.update()` and raw SQL skip post_save: the services publish explicitly instead.
    for model in (ApiKey, Tenant, Membership):
        assert not post_save.has_listeners(model), model


def test_deleting_a_user_removes_their_memberships_through_the_service(root_client, member):
    url = reverse("admin:accounts_user_delete", args=[member.pk])
    token = csrf_token_for(root_client, url)
    response = root_client.post(url, {"post": "yes"}, headers={"X-CSRFToken": token})
    assert response.status_code == 302
    event = Event.objects.get(action=Event.Action.MEMBER_REMOVED)
    assert event.target_name == "member@acme.test"
    assert not Membership.objects.filter(user_id=member.pk).exists()


def test_the_last_admin_of_a_tenant_cannot_be_deleted_as_a_user(root_client, admin):
    url = reverse("admin:accounts_user_delete", args=[admin.pk])
    assert root_client.get(url).status_code == 403
    assert Membership.objects.filter(user=admin).exists()
