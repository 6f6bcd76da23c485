"""The OpenAPI document describes what the code does: every response of a tour of the API
is checked against it (status listed, content type, body schema)."""

from datetime import date

import jsonschema
import pytest

from api.openapi import document
from customers.models import Customer

DOC = document("production")


def _operation(method: str, template: str) -> dict:
    return DOC["paths"][template][method.lower()]


def _response_spec(method: str, template: str, status: int) -> dict:
    spec = _operation(method, template)["responses"].get(str(status))
    assert spec is not None, f"{method} {template} answered {status}, which the document omits"
    if "$ref" in spec:
        spec = DOC["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
    return spec


def check(response, method: str, template: str) -> None:
    spec = _response_spec(method, template, response.status_code)
    content_type = response["Content-Type"].split(";")[0]
    assert content_type in spec["content"], (content_type, list(spec["content"]))
    schema = spec["content"][content_type]["schema"] | {"components": DOC["components"]}
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(response.json())
    for header in spec.get("headers", {}):
        if header.startswith("RateLimit") and response.status_code < 400:
            assert header in response, header


def test_the_document_is_valid_openapi_3_1_json_schema():
    assert DOC["openapi"] == "3.1.0"
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["operationId"] and "401" in operation["responses"], (path, method)
    for schema in DOC["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_it_is_served_without_a_key_for_each_environment(api, db):
    response = api("GET", "/openapi.json", environment="staging")
    assert response.status_code == 200
    assert response.json()["servers"] == [{"url": "/api/staging/v1"}]


def test_every_answer_of_a_tour_of_the_api_matches_the_document(api, new_key, acme):
    key = new_key()
    read_only = new_key(scopes=["customers:read"])
    today = date.today().isoformat()
    check(api("GET", "/me", key), "GET", "/me")
    check(api("GET", "/me"), "GET", "/me")
    created = api("POST", "/customers", key, {"name": "Initech", "external_id": "i-1"})
    check(created, "POST", "/customers")
    customer_id = created.json()["id"]
    path = f"/customers/{customer_id}"
    tour = [
        ("GET", "/customers", "/customers", key, None),
        ("GET", "/customers?per_page=500", "/customers", key, None),
        ("POST", "/customers", "/customers", key, {"name": ""}),
        ("POST", "/customers", "/customers", read_only, {"name": "x"}),
        ("GET", path, "/customers/{customer_id}", key, None),
        ("GET", "/customers/cus_000000000000", "/customers/{customer_id}", key, None),
        ("PATCH", path, "/customers/{customer_id}", key, {"status": "cancelled"}),
        ("PATCH", path, "/customers/{customer_id}", key, {"status": 1}),
        ("GET", path + "/license", "/customers/{customer_id}/license", key, None),
        (
            "PUT",
            path + "/license",
            "/customers/{customer_id}/license",
            key,
            {"seats": 3, "tier": "standard", "trial": True, "not_for_resale": False},
        ),
        ("GET", path + "/license", "/customers/{customer_id}/license", key, None),
        (
            "POST",
            "/telemetry",
            "/telemetry",
            key,
            {"customer_id": customer_id, "date": today, "seats_used": 2},
        ),
        ("POST", "/telemetry", "/telemetry", key, {"customer_id": customer_id}),
        ("GET", "/usage", "/usage", key, None),
        ("GET", "/usage?period=monthly", "/usage", key, None),
        ("GET", "/usage?period=yearly", "/usage", key, None),
    ]
    for method, url, template, with_key, body in tour:
        check(api(method, url, with_key, body), method, template)
    check(
        api("POST", "/customers", key, raw="{", content_type="application/json"),
        "POST",
        "/customers",
    )
    check(api("POST", "/customers", key, raw="x", content_type="text/plain"), "POST", "/customers")
    assert Customer.objects.get(public_id=customer_id).status == "cancelled"


def test_a_429_matches_the_document(api, new_key):
    key = new_key(rate_limit=1)
    api("GET", "/me", key)
    response = api("GET", "/me", key)
    assert response.status_code == 429
    check(response, "GET", "/me")


@pytest.mark.parametrize("template", list(DOC["paths"]))
def test_every_documented_path_exists(api, new_key, template):
    from django.urls import resolve

    url = template.replace("{customer_id}", "cus_000000000000")
    # An unknown path is a 404 problem from the catch-all, not a route of the API.
    assert resolve(f"/api/production/v1{url}").namespace == "api", url
    method = next(m for m in DOC["paths"][template] if m != "parameters").upper()
    assert api(method, url, new_key()).status_code != 405


def test_the_document_states_the_bounds_the_server_enforces(api, db):
    import re

    from apikeys.models import MAX_RATE_LIMIT
    from customers.models import MAX_SEATS
    from gateway.fields import MAX_PAGE, MAX_PER_PAGE

    doc = api("GET", "/openapi.json").json()
    schemas = doc["components"]["schemas"]
    page, per_page = (p["schema"] for p in doc["paths"]["/customers"]["get"]["parameters"])
    assert (page["minimum"], page["maximum"]) == (1, MAX_PAGE)
    assert (per_page["minimum"], per_page["maximum"]) == (1, MAX_PER_PAGE)
    assert schemas["LicensePut"]["properties"]["seats"]["maximum"] == MAX_SEATS
    assert schemas["Telemetry"]["properties"]["seats_used"]["maximum"] == MAX_SEATS
    assert schemas["Me"]["properties"]["rate_limit"]["maximum"] == MAX_RATE_LIMIT
    name = schemas["CustomerCreate"]["properties"]["name"]
    assert name["maxLength"] == 200
    pattern = re.compile(name["pattern"])
    assert pattern.search("Initech") and pattern.search("Team \u200d")
    for refused in ["a\u202eb", "a\u2066b", "a\nb", "\u200b", "   ", "a\x00"]:
        assert not pattern.search(refused), refused
    export_items = schemas["ExportRequest"]["properties"]["customers"]["items"]
    assert re.compile(export_items["pattern"]).fullmatch("cus_0123456789ab")
    job_id = doc["paths"]["/jobs/{job_id}"]["parameters"][0]["schema"]
    assert job_id["format"] == "uuid"
    system = api("GET", "/api/system/v1/openapi.json").json()["components"]["schemas"]
    assert system["TenantCreate"]["properties"]["name"]["pattern"] == name["pattern"]
    assert system["TenantCreate"]["properties"]["slug"]["maxLength"] == 50


def test_the_document_states_the_date_rules_and_the_csv_header(api, new_key, db):
    import re

    doc = api("GET", "/openapi.json").json()
    usage_to = doc["paths"]["/usage"]["get"]["parameters"][2]
    assert "at most 366 days" in usage_to["description"]
    assert "at most 366 days" in doc["components"]["schemas"]["ExportRequest"]["description"]
    telemetry = doc["components"]["schemas"]["Telemetry"]["properties"]["date"]
    assert "today or earlier" in telemetry["description"]
    csv = doc["paths"]["/customers/import"]["post"]["requestBody"]["content"]["text/csv"]
    header = re.compile(csv["schema"]["pattern"])
    # The pattern accepts exactly the headers the server accepts.
    key = new_key()
    for body in ["name\nInitech\n", "external_id,name\r\nx1,Initech\n", '\ufeff"name"\nA\n']:
        assert header.search(body), body
        response = api("POST", "/customers/import", key, raw=body, content_type="text/csv")
        assert response.status_code == 202, (body, response.content)
    for body in ["title\nInitech\n", "names\nInitech\n", "Initech"]:
        assert not header.search(body), body
        response = api("POST", "/customers/import", key, raw=body, content_type="text/csv")
        assert response.status_code == 422, (body, response.content)


def test_every_operation_documents_the_400_for_a_nul_in_its_url(api, db):
    for url in ("/openapi.json", "/api/system/v1/openapi.json", "/api/provider/v1/openapi.json"):
        for path, operations in api("GET", url).json()["paths"].items():
            for method, operation in operations.items():
                if method in {"get", "post", "put", "patch", "delete"} and path != "/openapi.json":
                    assert "400" in operation["responses"], (url, method, path)
