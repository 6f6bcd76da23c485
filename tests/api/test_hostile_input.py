"""Hostile input to the APIs gets a 4xx problem, never a 500 or a false 503 (SECURITY.md 27)."""

import base64
import json
from datetime import date
from urllib.parse import quote, urlencode

import pytest
from django.test import Client

from apikeys import services
from customers.models import Customer, License, SeatUsage
from jobs.models import Job
from tenants.models import Tenant
from tests.factories import UserFactory

DEEP = "[" * 100_000 + "]" * 100_000  # json.loads raises RecursionError
NESTED = {"name": json.loads("[" * 40 + "]" * 40)}  # parses, but deeper than any field


@pytest.fixture
def customer(acme):
    return Customer.objects.create(tenant=acme, environment="production", name="Initech")


@pytest.fixture
def service_key(db):
    root = UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    return services.service_key_create(service_name="inventory-service", actor=root)[1]


def _json_endpoints(customer):
    cid = customer.public_id
    return [
        ("POST", "/customers"),
        ("PATCH", f"/customers/{cid}"),
        ("PUT", f"/customers/{cid}/license"),
        ("POST", "/telemetry"),
        ("POST", "/exports"),
        ("POST", "/customers/import"),
        ("POST", "/api/system/v1/tenants"),
        ("PUT", "/api/system/v1/tenants/acme/status"),
    ]


@pytest.mark.parametrize("body", [DEEP, json.dumps(NESTED)], ids=["recursion", "depth"])
def test_deeply_nested_json_is_a_400_problem_on_every_json_endpoint(
    api, new_key, customer, service_key, body
):
    api.client.raise_request_exception = False
    key = new_key()
    for method, path in _json_endpoints(customer):
        used = service_key if path.startswith("/api/system/") else key
        response = api(method, path, key=used, raw=body)
        assert response.status_code == 400, (method, path, response.status_code)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == "The request body is nested too deeply."
    assert not Job.objects.exists()


@pytest.mark.parametrize("value", ["²", "٣", "\uff11", "+1", " 1", "1_0", "9" * 5000])
def test_page_numbers_take_plain_ascii_digits_only(api, new_key, service_key, value):
    api.client.raise_request_exception = False
    key = new_key(scopes=["customers:read"])
    for name in ("page", "per_page"):
        for path, used in [("/customers", key), ("/api/system/v1/tenants", service_key)]:
            response = api("GET", f"{path}?{urlencode({name: value})}", key=used)
            assert response.status_code == 422, (path, name, response.status_code)
            assert response.json()["errors"] == {
                name: [f"Must be a whole number from 1 to {1_000_000 if name == 'page' else 100}."]
            }


def test_a_nul_in_a_path_or_query_string_is_a_400_problem_not_a_503(api, new_key, customer):
    key = new_key()
    for path in [
        "/customers/cus_%00",
        f"/customers/{customer.public_id}%00/license",
        "/jobs/%00",
        "/customers?page=1%00",
        "/usage?period=daily%00",
        "/api/system/v1/tenants?x=%00",
        "/api/provider/v1/usage?from=%00",
    ]:
        response = api("GET", path, key=key)
        assert response.status_code == 400, (path, response.status_code)
        assert response["Content-Type"] == "application/problem+json"


def test_a_customer_id_that_cannot_exist_is_a_404(api, new_key, customer):
    key = new_key()
    for malformed in ["cus_short", "cus_" + "x" * 300, "cus_ab\u202ecdefghijk", "\u0661" * 16]:
        response = api("GET", f"/customers/{quote(malformed)}", key=key)
        assert response.status_code == 404, malformed
    telemetry = api(
        "POST",
        "/telemetry",
        key=key,
        body={"customer_id": "cus_\u00b2", "date": date.today().isoformat(), "seats_used": 1},
    )
    assert telemetry.status_code == 404
    assert not SeatUsage.objects.exists()


def test_an_export_refuses_customer_ids_with_a_nul_or_of_the_wrong_shape(api, new_key, customer):
    key = new_key(scopes=["usage:read"])
    today = date.today().isoformat()
    for wanted in [["cus_\x00"], ["x" * 10_000], [customer.public_id, "cus_\u202e"]]:
        response = api(
            "POST",
            "/exports",
            key=key,
            body={"period": "daily", "from": today, "to": today, "customers": wanted},
        )
        assert response.status_code == 422, wanted
        assert "customers" in response.json()["errors"]
    assert not Job.objects.exists()


def test_a_csv_field_over_the_csv_field_limit_is_a_422_naming_the_line(api, new_key):
    key = new_key(scopes=["customers:write"])
    body = "name,external_id\nInitech,i-1\n" + "A" * 200_000 + ",x\n"
    response = api("POST", "/customers/import", key=key, raw=body, content_type="text/csv")
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "body": ["Line 3 of the CSV is not readable: field larger than field limit (131072)."]
    }
    header = "A" * 200_000 + "\nx\n"
    response = api("POST", "/customers/import", key=key, raw=header, content_type="text/csv")
    assert response.status_code == 422
    assert not Job.objects.exists()


def _unsigned(header: bytes) -> str:
    part = base64.urlsafe_b64encode(header).rstrip(b"=").decode()
    return f"{part}.e30.c2ln"


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":"EdDSA","kid":"pk_\\u0000"}',
        b'{"alg":"EdDSA","kid":"' + b"k" * 5000 + b'"}',
        b'{"alg":"EdDSA","kid":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["nul-kid", "long-kid", "deep"],
)
def test_a_hostile_jwt_header_is_a_401_problem(db, header):
    response = Client(raise_request_exception=False).get(
        "/api/provider/v1/usage", headers={"Authorization": f"Bearer {_unsigned(header)}"}
    )
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


NAMES_REFUSED = {
    "bidi override": "invoice\u202egpj.exe",
    "bidi isolate": "a\u2066b",
    "newline": "Initech\nHooli",
    "NUL": "a\x00b",
    "zero-width only": "\u200b\u200b",
    "hangul filler": "\u3164",
    "escape": "\x1b[31mred",
}


@pytest.mark.parametrize("name", NAMES_REFUSED.values(), ids=NAMES_REFUSED.keys())
def test_customer_and_tenant_names_refuse_control_characters_and_invisible_names(
    api, new_key, customer, service_key, name
):
    key = new_key()
    created = api("POST", "/customers", key=key, body={"name": name})
    assert created.status_code == 422 and "name" in created.json()["errors"]
    patched = api("PATCH", f"/customers/{customer.public_id}", key=key, body={"name": name})
    assert patched.status_code == 422 and "name" in patched.json()["errors"]
    imported = api("POST", "/customers/import", key=key, body=[{"name": "Fine"}, {"name": name}])
    assert imported.status_code == 422 and "rows[2].name" in imported.json()["errors"]
    tenant = api(
        "POST", "/api/system/v1/tenants", key=service_key, body={"name": name, "slug": "x"}
    )
    assert tenant.status_code == 422 and "name" in tenant.json()["errors"]
    assert list(Customer.objects.values_list("name", flat=True)) == ["Initech"]
    assert not Tenant.objects.filter(slug="x").exists()


def test_names_in_any_script_with_joiners_and_emoji_are_accepted(api, new_key):
    key = new_key()
    for name in [
        "Ünïcødé GmbH",
        "\u0634\u0631\u06a9\u062a\u200c\u0647\u0627",
        "株式会社",
        "Team 👩\u200d💻",
        "O'Brien & Co",
    ]:
        response = api("POST", "/customers", key=key, body={"name": name})
        assert response.status_code == 201, name
        assert response.json()["name"] == name


def test_a_licence_refuses_seats_beyond_the_documented_maximum(api, new_key, customer):
    key = new_key()
    path = f"/customers/{customer.public_id}/license"
    body = {"tier": "standard", "trial": False, "not_for_resale": False}
    assert api("PUT", path, key=key, body=body | {"seats": 1_000_001}).status_code == 422
    assert api("PUT", path, key=key, body=body | {"seats": 2**63}).status_code == 422
    assert api("PUT", path, key=key, body=body | {"seats": 1_000_000}).status_code == 200
    assert License.objects.get().seats == 1_000_000
