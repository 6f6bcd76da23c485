"""Every API write to customers goes through customers.services and writes its event in the
same transaction (telemetry excepted: it is data, logged in the request log)."""

from datetime import date

import pytest

from apikeys import keyformat
from customers.models import Customer, SeatUsage
from tenants.models import Event


@pytest.fixture
def key(new_key):
    return new_key()


def _via(key: str) -> str:
    return f"API key {keyformat.parse(key).key_id}"


def test_creating_a_customer_writes_its_event(api, key, acme):
    created = api("POST", "/customers", key, {"name": "Initech", "external_id": "crm-1"})
    assert created.status_code == 201
    event = Event.objects.get(action=Event.Action.CUSTOMER_CREATED)
    assert (event.tenant, event.target_id, event.target_name) == (
        acme,
        created.json()["id"],
        "Initech",
    )
    assert event.changes == {"environment": "production", "via": _via(key)}


def test_a_refused_create_writes_nothing(api, key, acme):
    Customer.objects.create(tenant=acme, environment="production", name="A", external_id="x")
    assert api("POST", "/customers", key, {"name": "B", "external_id": "x"}).status_code == 409
    assert not Event.objects.filter(action__startswith="customer.").exists()
    assert Customer.objects.count() == 1


def test_changing_a_customer_records_before_and_after(api, key, acme):
    made = api("POST", "/customers", key, {"name": "Initech"}).json()
    api("PATCH", f"/customers/{made['id']}", key, {"name": "Initrode", "status": "suspended"})
    event = Event.objects.get(action=Event.Action.CUSTOMER_UPDATED)
    assert event.changes["name"] == {"before": "Initech", "after": "Initrode"}
    assert event.changes["status"] == {"before": "active", "after": "suspended"}
    api("PATCH", f"/customers/{made['id']}", key, {"name": "Initrode"})  # nothing changes
    assert Event.objects.filter(action=Event.Action.CUSTOMER_UPDATED).count() == 1


def test_a_licence_change_is_an_event_and_telemetry_is_not(api, key, acme):
    made = api("POST", "/customers", key, {"name": "Initech"}).json()
    body = {"seats": 30, "tier": "premium", "trial": False, "not_for_resale": True}
    assert api("PUT", f"/customers/{made['id']}/license", key, body).status_code == 200
    assert api("PUT", f"/customers/{made['id']}/license", key, body).status_code == 200
    (event,) = Event.objects.filter(action=Event.Action.LICENSE_CHANGED)
    assert event.changes["before"] is None and event.changes["after"]["seats"] == 30
    telemetry = {"customer_id": made["id"], "date": date.today().isoformat(), "seats_used": 7}
    assert api("POST", "/telemetry", key, telemetry).status_code == 200
    assert SeatUsage.objects.get().seats_used == 7
    assert Event.objects.count() == 3  # key created, customer created, licence changed


def test_an_import_writes_one_event(api, new_key, acme, django_capture_on_commit_callbacks):
    key = new_key(scopes=["customers:write"])
    rows = [{"name": f"Customer {n}"} for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        assert api("POST", "/customers/import", key, rows).status_code == 202
    event = Event.objects.get(action=Event.Action.CUSTOMERS_IMPORTED)
    assert event.changes["count"] == 5 and event.changes["via"].startswith("import job ")


def test_the_system_admin_writes_customers_through_the_services(client_for, acme):
    from django.urls import reverse

    from tests.factories import UserFactory
    from tests.helpers import csrf_token_for

    client = client_for(UserFactory(is_superuser=True, is_staff=True))
    url = reverse("admin:customers_customer_add")
    token = csrf_token_for(client, url)
    data = {
        "tenant": acme.pk,
        "environment": "production",
        "name": "Initech",
        "external_id": "crm-9",
        "status": "active",
        "license-TOTAL_FORMS": "1",
        "license-INITIAL_FORMS": "0",
        "license-0-seats": "40",
        "license-0-tier": "premium",
    }
    response = client.post(url, data, headers={"X-CSRFToken": token})
    assert response.status_code == 302, response.content.decode()[:3000]
    customer = Customer.objects.get()
    assert customer.license.seats == 40
    actions = set(Event.objects.values_list("action", flat=True))
    assert actions == {"customer.created", "license.changed"}
    change = reverse("admin:customers_customer_change", args=[customer.pk])
    assert (
        client.get(reverse("admin:customers_customer_delete", args=[customer.pk])).status_code
        == 403
    )
    assert client.get(change).status_code == 200
