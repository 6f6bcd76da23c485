import csv
import io
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from customers.models import Customer
from jobs.models import Job
from tests.factories import CustomerFactory, LicenseFactory, SeatUsageFactory

TODAY = date.today()
BODY = {"period": "daily", "from": (TODAY - timedelta(days=2)).isoformat(), "to": TODAY.isoformat()}


@pytest.fixture
def customers(acme, globex):
    made = {}
    for tenant, environment, name in [
        (acme, "production", "Initech"),
        (acme, "production", "Hooli"),
        (acme, "staging", "Stage Co"),
        (globex, "production", "Globex Co"),
    ]:
        customer = CustomerFactory(tenant=tenant, environment=environment, name=name)
        LicenseFactory(customer=customer, seats=10, tier="standard")
        SeatUsageFactory(customer=customer, day=TODAY, seats_used=4)
        made[name] = customer
    return made


def _start(api, key, body=None, django_capture_on_commit_callbacks=None):
    with django_capture_on_commit_callbacks(execute=True):
        return api("POST", "/exports", key, body or BODY)


def test_an_export_answers_202_and_its_job_ends_with_a_download(
    api,
    new_key,
    customers,
    django_capture_on_commit_callbacks,
):
    key = new_key(scopes=["usage:read"])
    response = _start(
        api, key, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )
    assert response.status_code == 202
    job_url = response["Location"]
    assert job_url == f"/api/production/v1/jobs/{response.json()['id']}"
    status = api("GET", job_url, key).json()
    assert status["status"] == "succeeded" and status["progress"] == 100
    download = api("GET", status["download_url"], key)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert sorted(r["customer_name"] for r in rows) == ["Hooli", "Initech"]


def test_an_export_covers_only_the_keys_customer_scope(
    api,
    new_key,
    customers,
    django_capture_on_commit_callbacks,
):
    key = new_key(customer_scope=[customers["Initech"].public_id])
    job = _start(api, key, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    status = api("GET", job["Location"], key).json()
    assert status["download_url"] == f"{job['Location']}/download"
    download = api("GET", status["download_url"], key)
    names = {r["customer_name"] for r in csv.DictReader(io.StringIO(download.content.decode()))}
    assert names == {"Initech"}
    refused = api("POST", "/exports", key, BODY | {"customers": [customers["Hooli"].public_id]})
    assert refused.status_code == 422


def test_jobs_are_visible_only_to_keys_of_the_same_tenant_and_environment(
    api,
    new_key,
    customers,
    outsider,
    globex,
    django_capture_on_commit_callbacks,
):
    key = new_key()
    job_url = _start(
        api, key, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )["Location"]
    staging = new_key(environment="staging")
    assert (
        api(
            "GET", job_url.replace("production", "staging"), staging, environment="staging"
        ).status_code
        == 404
    )
    foreign = new_key(user=outsider, tenant=globex)
    assert api("GET", job_url, foreign).status_code == 404
    assert api("GET", job_url + "/download", foreign).status_code == 404
    no_usage = new_key(scopes=["customers:read"])
    assert api("GET", job_url, no_usage).status_code == 200
    assert api("GET", job_url + "/download", no_usage).status_code == 403
    assert api("GET", "/jobs/not-a-uuid", key).status_code == 404


def test_a_key_limited_to_customers_sees_only_the_jobs_it_started(
    api, new_key, customers, django_capture_on_commit_callbacks
):
    initech = customers["Initech"].public_id
    everyone = new_key()
    export_url = _start(
        api, everyone, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )["Location"]
    import_url = _import(api, everyone, django_capture_on_commit_callbacks, [{"name": "New"}])[
        "Location"
    ]
    scoped = new_key(customer_scope=[initech])
    for url in (export_url, export_url + "/download", import_url):
        refused = api("GET", url, scoped)
        assert refused.status_code == 404, url
        assert refused["Content-Type"] == "application/problem+json"
        assert "Hooli" not in refused.content.decode()
    # Its own export it reads and downloads; a key with the same limit does not.
    own_url = _start(
        api, scoped, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )["Location"]
    assert api("GET", own_url, scoped).json()["status"] == "succeeded"
    assert api("GET", own_url + "/download", scoped).status_code == 200
    twin = new_key(customer_scope=[initech])
    assert api("GET", own_url, twin).status_code == 404
    assert api("GET", own_url + "/download", twin).status_code == 404


def test_a_key_without_a_customer_limit_sees_every_job_of_its_environment(
    api, new_key, customers, django_capture_on_commit_callbacks
):
    scoped = new_key(customer_scope=[customers["Initech"].public_id])
    job_url = _start(
        api, scoped, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )["Location"]
    everyone = new_key()
    assert api("GET", job_url, everyone).status_code == 200
    assert api("GET", job_url + "/download", everyone).status_code == 200


def test_export_requests_are_validated(api, new_key):
    key = new_key()
    for body in (
        {},
        BODY | {"period": "hourly"},
        BODY | {"from": "yesterday"},
        BODY | {"customers": "all"},
        BODY | {"from": "2020-01-01"},
    ):
        assert api("POST", "/exports", key, body).status_code == 422, body
    assert not Job.objects.exists()


def test_a_failing_job_shows_its_error(
    api,
    new_key,
    customers,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from customers import api as customers_api

    def broken(*args, **kwargs):
        raise RuntimeError("the usage store is unreachable")

    monkeypatch.setattr(customers_api, "usage_rows", broken)
    key = new_key()
    job_url = _start(
        api, key, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )["Location"]
    status = api("GET", job_url, key).json()
    assert status["status"] == "failed" and status["error"] == "the usage store is unreachable"
    assert api("GET", job_url + "/download", key).status_code == 409


@pytest.mark.parametrize(
    ("persona", "code"), [("admin", 200), ("developer", 200), ("member", 403), ("outsider", 404)]
)
def test_the_jobs_page_access(personas, client_for, persona, code):
    assert (
        client_for(personas[persona]).get(reverse("jobs:list", args=["acme"])).status_code == code
    )


def test_the_jobs_page_polls_running_jobs_only_and_offers_the_download(
    api,
    new_key,
    customers,
    admin,
    developer,
    client_for,
    acme,
    django_capture_on_commit_callbacks,
):
    key = new_key()
    done = _start(
        api, key, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    ).json()
    running = Job.objects.create(
        tenant=acme,
        environment="production",
        key_id="AnotherKey",
        kind="usage_export",
        status="running",
        progress=40,
    )
    page = client_for(admin).get(reverse("jobs:list", args=["acme"])).content.decode()
    assert page.count('hx-trigger="every 2s"') == 1
    assert f'id="job-{running.pk}" hx-get=' in page and "40%" in page
    download = reverse("jobs:download", args=["acme", done["id"]])
    assert download in page
    assert client_for(admin).get(download)["Content-Type"].startswith("text/csv")
    # The developer who owns the key sees its job; the one owned by nobody they do not.
    mine = client_for(developer).get(reverse("jobs:list", args=["acme"])).content.decode()
    assert done["id"] in mine and str(running.pk) not in mine
    row = client_for(admin).get(reverse("jobs:row", args=["acme", running.pk]))
    assert "every 2s" in row.content.decode()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the worker is a second process: it needs a shared database",
)
@pytest.mark.django_db(transaction=True)
def test_the_database_queue_and_a_real_worker_run_a_job(api, new_key, customers, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    key = new_key()
    job_url = api("POST", "/exports", key, BODY)["Location"]
    assert api("GET", job_url, key).json()["status"] == "queued"
    root = Path(__file__).resolve().parents[2]
    database = connection.settings_dict
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "portal.settings_worker_test",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    status = api("GET", job_url, key).json()
    assert status["status"] == "succeeded", status
    assert api("GET", status["download_url"], key).status_code == 200


def _import(
    api,
    key,
    django_capture_on_commit_callbacks,
    body=None,
    raw=None,
    content_type="application/json",
):
    with django_capture_on_commit_callbacks(execute=True):
        return api("POST", "/customers/import", key, body, raw=raw, content_type=content_type)


def test_an_import_of_valid_rows_creates_them_all(
    api, new_key, acme, django_capture_on_commit_callbacks
):
    key = new_key(scopes=["customers:write"])
    rows = [{"name": f"Customer {n}", "external_id": f"ext-{n}"} for n in range(25)]
    response = _import(api, key, django_capture_on_commit_callbacks, rows)
    assert response.status_code == 202
    status = api("GET", response["Location"], key).json()
    assert status["status"] == "succeeded" and status["rows"] == 25
    assert Customer.objects.filter(tenant=acme, environment="production").count() == 25


def test_an_import_with_one_bad_row_imports_nothing_and_names_the_row(
    api, new_key, acme, django_capture_on_commit_callbacks
):
    key = new_key(scopes=["customers:write"])
    # What the request alone shows is refused at once, row by row...
    shape = api(
        "POST",
        "/customers/import",
        key,
        [{"name": "Good"}, {"name": ""}, {"name": "Ok", "status": "gone"}],
    )
    assert shape.status_code == 422
    assert set(shape.json()["errors"]) == {"rows[2].name", "rows[3].status"}
    # ...and a row that clashes with the data is found by the job, which imports nothing.
    Customer.objects.create(tenant=acme, environment="production", name="Old", external_id="dup")
    rows = [{"name": "Good"}, {"name": "Twin", "external_id": "dup"}, {"name": "Fine"}]
    status = api(
        "GET", _import(api, key, django_capture_on_commit_callbacks, rows)["Location"], key
    ).json()
    assert status["status"] == "failed" and "nothing was imported" in status["error"]
    assert status["details"] == [
        {"row": 2, "errors": {"external_id": ["Another customer already has this external ID."]}}
    ]
    assert Customer.objects.count() == 1
    assert not Job.objects.filter(status="succeeded").exists()


def test_an_import_takes_csv_too(api, new_key, acme, django_capture_on_commit_callbacks):
    key = new_key(scopes=["customers:write"])
    csv_body = "name,external_id,status\nInitech,i-1,active\nHooli,h-1,suspended\n"
    response = _import(
        api, key, django_capture_on_commit_callbacks, raw=csv_body, content_type="text/csv"
    )
    assert api("GET", response["Location"], key).json()["status"] == "succeeded"
    assert set(Customer.objects.values_list("status", flat=True)) == {"active", "suspended"}


def test_import_requests_are_checked_before_a_job_is_made(api, new_key, customers):
    key = new_key(scopes=["customers:write"])
    too_many = [{"name": "x"}] * 10_001
    assert api("POST", "/customers/import", key, too_many).status_code == 422
    assert api("POST", "/customers/import", key, {"name": "x"}).status_code == 422
    assert api("POST", "/customers/import", key, []).status_code == 422
    assert (
        api("POST", "/customers/import", key, raw="x", content_type="text/plain").status_code == 415
    )
    assert (
        api("POST", "/customers/import", key, raw="[", content_type="application/json").status_code
        == 400
    )
    scoped = new_key(customer_scope=[customers["Initech"].public_id])
    assert api("POST", "/customers/import", scoped, [{"name": "x"}]).status_code == 403
    assert (
        api(
            "POST", "/customers/import", new_key(scopes=["usage:read"]), [{"name": "x"}]
        ).status_code
        == 403
    )
    assert not Job.objects.exists()


def test_expiry_notices_go_once_a_day_to_owners_and_admins(developer, admin, acme, new_key):
    from django.core import mail
    from django.core.management import call_command

    from apikeys.models import ApiKey

    new_key(name="Soon", expires_on=TODAY + timedelta(days=3))
    new_key(name="Later", expires_on=TODAY + timedelta(days=30))
    new_key(name="Gone", expires_on=TODAY + timedelta(days=2))
    ApiKey.objects.filter(name="Gone").update(revoked_at="2026-01-01T00:00:00Z")
    call_command("notify_expiring_keys", stdout=io.StringIO())
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@acme.test", "dev@acme.test"]
    owner_mail = next(m for m in mail.outbox if m.to == ["dev@acme.test"])
    assert "Soon" in owner_mail.body and "Later" not in owner_mail.body
    assert "Gone" not in owner_mail.body
    call_command("notify_expiring_keys", stdout=io.StringIO())
    assert len(mail.outbox) == 2  # once per key and day


def test_finished_jobs_and_their_files_are_pruned(
    api, new_key, customers, django_capture_on_commit_callbacks
):
    from django.core.management import call_command
    from django.utils import timezone

    key = new_key()
    job_id = _start(
        api, key, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    ).json()["id"]
    job = Job.objects.get(pk=job_id)
    path = Path(job.result.path)
    assert path.exists()
    call_command("prune_jobs", "--days", "30", stdout=io.StringIO())
    assert Job.objects.filter(pk=job_id).exists()
    Job.objects.filter(pk=job_id).update(finished_at=timezone.now() - timedelta(days=31))
    call_command("prune_jobs", "--days", "30", stdout=io.StringIO())
    assert not Job.objects.filter(pk=job_id).exists() and not path.exists()


def _csv_import(api, key, django_capture_on_commit_callbacks, body):
    return _import(api, key, django_capture_on_commit_callbacks, raw=body, content_type="text/csv")


def test_a_refused_csv_import_names_each_invalid_line_and_its_error(
    api, new_key, acme, django_capture_on_commit_callbacks
):
    key = new_key(scopes=["customers:write"])
    Customer.objects.create(tenant=acme, environment="production", name="Old", external_id="dup")
    # Line 1 is the header; Initech's quoted cell spans lines 2-3, so the clash is on line 4.
    body = 'name,external_id\nInitech,"i-1\nEast"\nTwin,dup\nFine,f-1\n'
    response = _csv_import(api, key, django_capture_on_commit_callbacks, body)
    status = api("GET", response["Location"], key).json()
    assert status["status"] == "failed"
    assert status["error"] == (
        "1 of 3 rows is invalid; nothing was imported. "
        "Line 4, external_id: Another customer already has this external ID."
    )
    assert status["details"] == [
        {
            "row": 2,
            "line": 4,
            "errors": {"external_id": ["Another customer already has this external ID."]},
        }
    ]
    assert Customer.objects.count() == 1  # all or nothing
    # The jobs page shows the same sentence.
    page = _jobs_page_for(acme).content.decode()
    assert "Line 4, external_id: Another customer already has this external ID." in page


def _jobs_page_for(tenant):
    from django.test import Client

    from tenants.models import Membership

    client = Client()
    client.force_login(Membership.objects.filter(tenant=tenant, is_developer=True).first().user)
    return client.get(reverse("jobs:list", args=[tenant.slug]))


def test_a_csv_request_with_bad_rows_is_refused_naming_their_lines(api, new_key, acme):
    key = new_key(scopes=["customers:write"])
    body = "name,status\nGood,active\n,active\nOk,gone\n"
    response = api("POST", "/customers/import", key, raw=body, content_type="text/csv")
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"line[3].name", "line[4].status"}
    assert not Job.objects.exists() and not Customer.objects.exists()


def test_a_big_refused_import_names_the_first_rows_and_counts_the_rest(
    api, new_key, acme, django_capture_on_commit_callbacks
):
    key = new_key(scopes=["customers:write"])
    Customer.objects.bulk_create(
        Customer(tenant=acme, environment="production", name=f"Old {n}", external_id=f"e-{n}")
        for n in range(40)
    )
    rows = [{"name": f"New {n}", "external_id": f"e-{n}"} for n in range(40)]
    rows.insert(0, {"name": "Fresh"})
    response = _import(api, key, django_capture_on_commit_callbacks, rows)
    status = api("GET", response["Location"], key).json()
    error = status["error"]
    assert error.startswith("40 of 41 rows are invalid; nothing was imported. Row 2, external_id:")
    assert error.count("Another customer already has this external ID.") == 5
    assert "Row 6, external_id" in error and "Row 7," not in error
    assert error.endswith("And 35 more invalid rows (see the details).")
    assert len(status["details"]) == 40
    assert Customer.objects.count() == 40
