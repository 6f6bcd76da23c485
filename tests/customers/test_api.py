"""The customers API, endpoint by endpoint: what it answers, who may call it, what it refuses."""

from datetime import date, timedelta

import pytest

from customers.models import Customer, License, SeatUsage
from tests.factories import CustomerFactory, LicenseFactory, SeatUsageFactory


@pytest.fixture
def customers(acme, globex):
    made = {
        "initech": CustomerFactory(tenant=acme, name="Initech", external_id="ini-1"),
        "hooli": CustomerFactory(tenant=acme, name="Hooli"),
        "staging": CustomerFactory(tenant=acme, environment="staging", name="Stage Co"),
        "foreign": CustomerFactory(tenant=globex, name="Globex Client"),
    }
    LicenseFactory(
        customer=made["initech"], seats=50, tier="premium", trial=False, not_for_resale=True
    )
    today = date.today()
    for n in range(40):
        SeatUsageFactory(
            customer=made["initech"], day=today - timedelta(days=n), seats_used=10 + n % 5
        )
    SeatUsageFactory(customer=made["staging"], day=today, seats_used=3)
    return made


def test_customers_lists_only_this_tenant_and_environment(api, new_key, customers):
    body = api("GET", "/customers", new_key(scopes=["customers:read"])).json()
    assert [c["name"] for c in body["data"]] == ["Hooli", "Initech"]
    assert body["total"] == 2 and body["has_more"] is False
    staging = api("GET", "/customers", new_key(environment="staging"), environment="staging")
    assert [c["name"] for c in staging.json()["data"]] == ["Stage Co"]


def test_customers_paginate_and_refuse_bad_page_numbers(api, new_key, customers):
    key = new_key()
    first = api("GET", "/customers?per_page=1", key).json()
    assert [c["name"] for c in first["data"]] == ["Hooli"] and first["has_more"]
    assert api("GET", "/customers?page=2&per_page=1", key).json()["data"][0]["name"] == "Initech"
    for query in ("?per_page=101", "?per_page=0", "?page=abc"):
        response = api("GET", "/customers" + query, key)
        assert (
            response.status_code == 422 and response["Content-Type"] == "application/problem+json"
        )


def test_another_tenants_or_environments_customer_is_a_404(api, new_key, customers):
    key = new_key()
    for name in ("foreign", "staging"):
        response = api("GET", f"/customers/{customers[name].public_id}", key)
        assert response.status_code == 404 and response.json()["status"] == 404
    assert api("GET", "/customers/cus_doesnotexist", key).status_code == 404


def test_a_customer_scoped_key_sees_only_its_customers(api, new_key, customers):
    key = new_key(customer_scope=[customers["initech"].public_id])
    assert [c["name"] for c in api("GET", "/customers", key).json()["data"]] == ["Initech"]
    assert api("GET", f"/customers/{customers['hooli'].public_id}", key).status_code == 404
    usage = api("GET", "/usage", key).json()["data"]
    assert {row["customer_id"] for row in usage} == {customers["initech"].public_id}
    refused = api("POST", "/customers", key, {"name": "New"})
    assert refused.status_code == 403


def test_create_and_update_a_customer(api, new_key, acme):
    key = new_key()
    created = api("POST", "/customers", key, {"name": " Umbrella ", "external_id": "u-1"})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Umbrella" and body["environment"] == "production"
    assert created["Location"] == f"/api/production/v1/customers/{body['id']}"
    assert Customer.objects.get(public_id=body["id"]).tenant == acme
    patched = api("PATCH", f"/customers/{body['id']}", key, {"status": "suspended"})
    assert patched.status_code == 200 and patched.json()["status"] == "suspended"
    assert patched.json()["name"] == "Umbrella"
    duplicate = api("POST", "/customers", key, {"name": "Other", "external_id": "u-1"})
    assert duplicate.status_code == 409 and "external_id" in duplicate.json()["errors"]


def test_invalid_fields_are_named(api, new_key):
    response = api(
        "POST",
        "/customers",
        new_key(),
        {"name": "", "status": "gone", "external_id": 5, "colour": "red"},
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"name", "status", "external_id", "colour"}
    assert not Customer.objects.exists()


def test_bodies_must_be_json(api, new_key):
    key = new_key()
    not_json = api("POST", "/customers", key, raw="name=x", content_type="text/plain")
    assert not_json.status_code == 415
    broken = api("POST", "/customers", key, raw="{not json")
    assert broken.status_code == 400
    array = api("POST", "/customers", key, raw="[1, 2]")
    assert array.status_code == 422
    for response in (not_json, broken, array):
        assert response["Content-Type"] == "application/problem+json"


def test_a_body_over_the_limit_is_a_413(api, new_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api("POST", "/customers", new_key(), {"name": "x" * 2000})
    assert response.status_code == 413


def test_license_get_and_put(api, new_key, customers):
    key = new_key()
    initech = customers["initech"].public_id
    assert api("GET", f"/customers/{initech}/license", key).json()["seats"] == 50
    put = api(
        "PUT",
        f"/customers/{customers['hooli'].public_id}/license",
        key,
        {"seats": 12, "tier": "enterprise", "trial": True, "not_for_resale": False},
    )
    assert put.status_code == 200 and put.json()["tier"] == "enterprise"
    assert License.objects.get(customer=customers["hooli"]).seats == 12
    bad = api(
        "PUT", f"/customers/{initech}/license", key, {"seats": "12", "tier": "gold", "trial": "yes"}
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"seats", "tier", "trial", "not_for_resale"}


def test_usage_daily_and_monthly(api, new_key, customers):
    key = new_key()
    today = date.today()
    daily = api("GET", f"/usage?from={today - timedelta(days=2)}&to={today}", key).json()
    assert daily["period"] == "daily" and len(daily["data"]) == 3
    row = daily["data"][-1]
    assert row == {
        "customer_id": customers["initech"].public_id,
        "customer_name": "Initech",
        "date": today.isoformat(),
        "seats_used": 10,
        "licensed_seats": 50,
        "tier": "premium",
        "trial": False,
        "not_for_resale": True,
    }
    monthly = api(
        "GET", f"/usage?period=monthly&from={today - timedelta(days=39)}&to={today}", key
    ).json()
    assert all("month" in r for r in monthly["data"]) and monthly["data"][0]["seats_used"] <= 14
    for query in (
        "?period=weekly",
        "?from=2026-13-01",
        "?from=2026-02-01&to=2026-01-01",
        "?from=2020-01-01&to=2026-01-01",
    ):
        assert api("GET", "/usage" + query, key).status_code == 422, query


def test_telemetry_records_and_replaces_a_days_seats(api, new_key, customers):
    key = new_key(scopes=["telemetry:write"])
    customer = customers["hooli"]
    day = (date.today() - timedelta(days=1)).isoformat()
    for seats in (7, 9):
        response = api(
            "POST",
            "/telemetry",
            key,
            {"customer_id": customer.public_id, "date": day, "seats_used": seats},
        )
        assert response.status_code == 200
    assert SeatUsage.objects.get(customer=customer).seats_used == 9
    future = (date.today() + timedelta(days=1)).isoformat()
    assert (
        api(
            "POST",
            "/telemetry",
            key,
            {"customer_id": customer.public_id, "date": future, "seats_used": 1},
        ).status_code
        == 422
    )
    foreign = api(
        "POST",
        "/telemetry",
        key,
        {"customer_id": customers["foreign"].public_id, "date": day, "seats_used": 1},
    )
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "scope", "allowed"),
    [
        ("GET", "/customers", None, "customers:read", 200),
        ("POST", "/customers", {"name": "x"}, "customers:write", 201),
        ("GET", "/customers/{id}", None, "customers:read", 200),
        ("PATCH", "/customers/{id}", {"name": "x"}, "customers:write", 200),
        ("GET", "/customers/{id}/license", None, "customers:read", 200),
        (
            "PUT",
            "/customers/{id}/license",
            {"seats": 1, "tier": "standard", "trial": False, "not_for_resale": False},
            "licenses:manage",
            200,
        ),
        ("GET", "/usage", None, "usage:read", 200),
        (
            "POST",
            "/telemetry",
            {"customer_id": "{id}", "date": "2026-01-01", "seats_used": 1},
            "telemetry:write",
            200,
        ),
    ],
)
def test_each_endpoint_needs_its_permission(
    api, new_key, customers, method, path, body, scope, allowed
):
    from tests.conftest import ALL_SCOPES

    customer_id = customers["initech"].public_id
    path = path.replace("{id}", customer_id)
    if body and body.get("customer_id"):
        body = body | {"customer_id": customer_id}
    without = new_key(scopes=[s for s in ALL_SCOPES if s != scope])
    response = api(method, path, without, body)
    assert response.status_code == 403
    assert response.json()["required"] == scope
    assert api(method, path, new_key(scopes=[scope]), body).status_code == allowed


def test_a_developer_of_another_tenant_never_reaches_acme_data(
    api, new_key, customers, globex, outsider
):
    key = new_key(user=outsider, tenant=globex)
    names = [c["name"] for c in api("GET", "/customers", key).json()["data"]]
    assert names == ["Globex Client"]


def test_a_month_before_the_year_1000_is_still_four_digits(api, new_key, customers):
    from customers.models import SeatUsage

    SeatUsage.objects.create(customer=customers["initech"], day=date(295, 3, 18), seats_used=3)
    monthly = api("GET", "/usage?period=monthly&from=0295-03-01&to=0295-03-31", new_key()).json()
    assert [row["month"] for row in monthly["data"]] == ["0295-03"]
