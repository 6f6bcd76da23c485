"""One targeted test per hostile input known to fail (known.py): an expected failure until
its fix merges, then a regression test."""

import csv
import io
import json
import uuid

import pytest
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from apikeys.models import ApiKey
from customers.models import Customer, SeatUsage
from tenants.models import TenantSettings
from tests.security import known
from tests.security.conftest import CSRF, difference, snapshot
from tests.security.strategies import BIDI, CONTROL, NON_ASCII_DIGITS, percent

# Until a fix merges these fail at once; no shrinking (the reason says what fails).
ONCE = settings(
    max_examples=10,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def api(world, method, path, body=None, key="full", content_type="application/json", **extra):
    headers = {"Authorization": f"Bearer {world.keys[key]}"} if key else {}
    kwargs = {"headers": headers, **extra}
    if body is not None:
        kwargs |= {"data": body, "content_type": content_type}
    return Client(enforce_csrf_checks=True).generic(method, path, **kwargs)


def assert_refused_as_problem(response, before) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/problem+json")
    assert not difference(before, snapshot())


# 1. Deep JSON ----------------------------------------------------------------------------

DEEP = [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000]
JSON_WRITES = [
    ("POST", "/api/production/v1/customers", "full"),
    ("PATCH", "/api/production/v1/customers/{customer_id}", "full"),
    ("PUT", "/api/production/v1/customers/{customer_id}/license", "full"),
    ("POST", "/api/production/v1/telemetry", "full"),
    ("POST", "/api/production/v1/exports", "full"),
    ("POST", "/api/production/v1/customers/import", "full"),
    ("POST", "/api/system/v1/tenants", "service"),
    ("PUT", "/api/system/v1/tenants/acme/status", "service"),
]


@known.DEEP_JSON.xfail()
@pytest.mark.parametrize(("method", "path", "key"), JSON_WRITES)
@pytest.mark.parametrize("body", DEEP, ids=["array", "object"])
def test_deeply_nested_json_is_refused_as_a_problem(world, method, path, key, body):
    before = snapshot()
    path = path.format(customer_id=world.acme_customer.public_id)
    assert_refused_as_problem(api(world, method, path, body, key=key), before)


# 2. Non-ASCII digits in paging -----------------------------------------------------------


@known.NON_ASCII_DIGITS.xfail()
@pytest.mark.parametrize(
    ("path", "key"),
    [("/api/production/v1/customers", "full"), ("/api/system/v1/tenants", "service")],
)
@pytest.mark.parametrize("name", ["page", "per_page"])
@ONCE
@given(digits=st.text(st.sampled_from([*NON_ASCII_DIGITS, "1"]), min_size=1, max_size=3))
def test_non_ascii_digits_in_paging_are_refused_as_a_problem(world, path, key, name, digits):
    if digits.isascii():
        digits = "²" + digits
    before = snapshot()
    response = api(world, "GET", path, key=key, QUERY_STRING=f"{name}={percent(digits)}")
    assert_refused_as_problem(response, before)


# 3. A huge CSV field -----------------------------------------------------------------------


@known.HUGE_CSV_FIELD.xfail()
def test_an_import_with_a_200_kb_csv_field_is_refused_as_a_problem(world):
    before = snapshot()
    body = ("name,external_id\n" + "a" * 200_000 + ",x\n").encode()
    response = api(
        world, "POST", "/api/production/v1/customers/import", body, content_type="text/csv"
    )
    assert_refused_as_problem(response, before)


# 4. NUL on PostgreSQL ----------------------------------------------------------------------

NUL_PORTAL = [
    "/t/acme/keys/?q=%00",
    "/t/acme/keys/?owner=a%00@acme.test",
    "/t/acme/events/?q=%00",
    "/t/acme/customers/?q=%00",
    "/t/acme/jobs/?key=%00",
    "/t/acme/logs/?key=%00",
    "/t/acme/keys/%00/",
    "/t/acme/keys/%00/edit/",
    "/t/acme/customers/%00/",
]


@known.NUL_ON_POSTGRES.xfail()
def test_nul_in_portal_query_strings_and_paths_is_a_client_error(world):
    client = world.clients["admin"]
    statuses = {url: client.get(url).status_code for url in NUL_PORTAL}
    assert all(status < 500 for status in statuses.values()), statuses


@known.NUL_ON_POSTGRES.xfail()
def test_nul_in_an_api_customer_id_is_a_client_error(world):
    before = snapshot()
    for path in [
        "/api/production/v1/customers/cus_%00",
        "/api/production/v1/customers/%00/license",
    ]:
        assert_refused_as_problem(api(world, "GET", path), before)


@known.NUL_ON_POSTGRES.xfail()
def test_nul_in_a_jwt_header_is_refused_as_a_problem(world):
    import jwt

    token = jwt.encode(
        {"iss": "acme"}, world.provider_pem, algorithm="EdDSA", headers={"kid": "a\x00b"}
    )
    response = Client().get("/api/provider/v1/usage", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.content[:300]


# 5. A malformed job ID in a portal URL -------------------------------------------------------


@known.MALFORMED_JOB_ID.xfail()
@pytest.mark.parametrize(
    "job_id", ["not-a-uuid", "1", "%C3%A9", "00000000-0000-0000-0000-00000000000g"]
)
@pytest.mark.parametrize("tail", ["row/", "download/"])
def test_a_malformed_job_id_in_a_portal_url_is_a_404(world, job_id, tail):
    response = world.clients["admin"].get(f"/t/acme/jobs/{job_id}/{tail}")
    assert response.status_code == 404


# 6. A Host outside ALLOWED_HOSTS --------------------------------------------------------------


@known.BAD_HOST.xfail()
@pytest.mark.parametrize(
    "path", ["/", "/accounts/sign-in/", "/t/acme/keys/", "/api/health", "/api/production/v1/me"]
)
@pytest.mark.parametrize("host", ["evil.test", "testserver.evil.test", "a" * 300, "[::1"])
def test_a_host_outside_allowed_hosts_is_a_400(world, path, host):
    for name in ("anonymous", "admin"):
        response = world.clients[name].get(path, HTTP_HOST=host)
        assert response.status_code == 400, (name, response.status_code)


# 7. A huge maximum expiration ------------------------------------------------------------------


@known.HUGE_MAX_EXPIRATION.xfail()
@pytest.mark.parametrize("days", ["2147483647", "3000000", "99999999"])
def test_the_create_page_survives_any_maximum_expiration_the_settings_accept(world, days):
    response = world.clients["admin"].post(
        "/t/acme/settings/",
        {
            "api_keys_enabled": "on",
            "max_expiration_days": days,
            "max_keys_per_user": "10",
            "default_rate_limit": "60",
        },
        headers={"X-CSRFToken": CSRF},
    )
    assert response.status_code in (302, 400)
    page = world.clients["developer"].get("/t/acme/keys/new/")
    assert page.status_code == 200


# 8. Control characters and bidi overrides in names ----------------------------------------------

BAD_CHARS = [c for c in CONTROL if c not in "\t"] + BIDI


def _key_form(name: str) -> dict:
    return {"name": name, "environment": "production", "scopes": ["usage:read"], "rate_limit": "60"}


@known.CONTROL_CHARS_IN_NAMES.xfail()
@ONCE
@given(char=st.sampled_from(BAD_CHARS), where=st.integers(0, 4))
def test_a_key_name_with_control_or_bidi_characters_is_refused(world, char, where):
    name = ("Evil" + "Key")[:where] + char + ("Evil" + "Key")[where:]
    before = ApiKey.objects.count()
    world.clients["developer"].post(
        "/t/acme/keys/new/", _key_form(name), headers={"X-CSRFToken": CSRF}
    )
    assert ApiKey.objects.count() == before
    world.clients["developer"].post(
        f"/t/acme/keys/{world.dev_key.key_id}/edit/",
        {"name": name},
        headers={"X-CSRFToken": CSRF},
    )
    world.dev_key.refresh_from_db()
    assert world.dev_key.name == "Main Website Integration"


@known.CONTROL_CHARS_IN_NAMES.xfail()
@ONCE
@given(char=st.sampled_from(BAD_CHARS))
def test_a_customer_or_tenant_name_with_control_or_bidi_characters_is_refused(world, char):
    before = snapshot()
    customer = api(
        world, "POST", "/api/production/v1/customers", json.dumps({"name": f"Evil{char}Corp"})
    )
    tenant = api(
        world,
        "POST",
        "/api/system/v1/tenants",
        json.dumps({"name": f"Evil{char}Corp", "slug": f"evil-{uuid.uuid4().hex[:8]}"}),
        key="service",
    )
    assert (customer.status_code, tenant.status_code) == (422, 422)
    assert not difference(before, snapshot())


# 9. Formulas in CSV exports ----------------------------------------------------------------------


@known.CSV_FORMULAS.xfail()
@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.test","x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_an_export_neutralises_cells_a_spreadsheet_would_run(
    world, name, django_capture_on_commit_callbacks
):
    world.acme_customer.name = name
    world.acme_customer.save()
    SeatUsage.objects.create(customer=world.acme_customer, day="2025-01-02", seats_used=3)
    with django_capture_on_commit_callbacks(execute=True):
        started = api(
            world,
            "POST",
            "/api/production/v1/exports",
            json.dumps({"period": "daily", "from": "2025-01-01", "to": "2025-01-31"}),
        )
    assert started.status_code == 202, started.content
    download = api(
        world, "GET", started.json()["download_url"] or started["Location"] + "/download"
    )
    assert download.status_code == 200, download.content[:300]
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    cells = [cell for row in rows for cell in row]
    assert any(name.lstrip("=+-@") in cell for cell in cells), cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), cells


# 10 (NEW). HTML errors from the public GET-only API endpoints -----------------------------------

PUBLIC_API = [
    "/api/health",
    "/api/production/v1/openapi.json",
    "/api/system/v1/openapi.json",
    "/api/provider/v1/openapi.json",
]


@known.HTML_ERRORS_ON_PUBLIC_API.xfail()
@pytest.mark.parametrize("path", PUBLIC_API)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_public_api_endpoints_answer_other_methods_with_a_405_problem(path, method, db):
    response = Client(enforce_csrf_checks=True).generic(method, path)
    assert response.status_code == 405, response.status_code
    assert response["Content-Type"] == "application/problem+json"


# 11 (NEW). An empty environment segment ---------------------------------------------------


@known.EMPTY_ENVIRONMENT.xfail()
@pytest.mark.parametrize("path", ["/api//v1/me", "/api//v1/customers", "/api//v1/"])
def test_an_empty_environment_is_a_404_problem(path, db):
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_the_snapshot_sees_a_change_when_there_is_one(world):
    """The refusal checks rest on snapshot(): it must notice a change of any watched row."""
    before = snapshot()
    TenantSettings.objects.filter(tenant__slug="acme").update(default_rate_limit=61)
    assert "TenantSettings" in difference(before, snapshot())
    before = snapshot()
    Customer.objects.filter(pk=world.acme_customer.pk).update(name="Changed")
    assert "Customer" in difference(before, snapshot())
