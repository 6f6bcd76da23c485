import json
import urllib.request
from datetime import date

from django.utils import timezone
from playwright.sync_api import expect

from apikeys import services
from customers.models import Customer, SeatUsage
from jobs.models import Job
from jobs.tasks import run_job
from tenants.models import Membership
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD


def test_an_export_started_through_the_api_is_watched_to_succeeded_and_downloaded(
    page, live_server, admin, developer, acme, settings
):
    # The API answers 202 at once; the worker is held back so the page can watch it run.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    customer = Customer.objects.create(tenant=acme, environment="production", name="Initech")
    SeatUsage.objects.create(customer=customer, day=date.today(), seats_used=12)
    acme.settings.max_expiration_days = None
    acme.settings.save()
    _, key = services.api_key_create(
        membership=Membership.objects.get(user=developer),
        name="exports",
        environment="production",
        scopes=["usage:read"],
    )
    request = urllib.request.Request(
        f"{live_server.url}/api/production/v1/exports",
        data=json.dumps(
            {"period": "daily", "from": date.today().isoformat(), "to": date.today().isoformat()}
        ).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        job_id = json.load(response)["id"]
    Job.objects.filter(pk=job_id).update(status="running", started_at=timezone.now(), progress=30)

    sign_in(page, "admin@acme.test", PASSWORD)
    page.get_by_role("navigation", name="Tenant").get_by_role("link", name="Jobs").click()
    row = page.locator(f"#job-{job_id}")
    expect(row).to_contain_text("Running")
    expect(row).to_contain_text("30%")

    Job.objects.filter(pk=job_id).update(status="queued")
    run_job.call(job_id)  # what the worker does
    expect(row).to_contain_text("Succeeded", timeout=10_000)  # the row's polling saw it
    expect(row).not_to_have_attribute("hx-trigger", "every 2s")
    with page.expect_download() as download:
        row.get_by_role("link", name="Download CSV").click()
    content = download.value.path().read_text()
    assert "Initech" in content and "customer_id" in content
    assert page.console_watch.errors == []
