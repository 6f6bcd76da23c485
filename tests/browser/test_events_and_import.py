"""The events search (key ID, key name, actor email) and a refused import's message, in
Chromium at both sizes."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from jobs.models import Job
from jobs.tasks import import_failure
from tenants.models import Event
from tenants.services import event_record
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import PASSWORD

VIEWPORTS = [(1280, 800, "desktop"), (390, 844, "phone")]


@pytest.fixture
def events(admin, developer, outsider, acme, globex):
    def record(tenant, actor, key_id, name):
        event_record(
            action=Event.Action.KEY_CREATED,
            actor=actor,
            tenant=tenant,
            target_type="key",
            target_id=key_id,
            target_name=name,
        )

    record(acme, developer, "k7Hq2P9xWm", "Billing export")
    record(acme, admin, "aB3dE5gH7j", "Telemetry collector")
    record(globex, outsider, "zZ9yY8xX7w", "Billing export")


def _rows(page):
    return page.locator("#events-table tbody tr")


@pytest.mark.parametrize(("width", "height", "suffix"), VIEWPORTS)
def test_events_are_searched_by_key_name_and_actor_email(page, events, width, height, suffix):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/t/acme/events/")
    expect(_rows(page)).to_have_count(2)
    search = page.get_by_label("Search events")
    expect(search).to_have_attribute(
        "placeholder", "Key ID (e.g. k7Hq2P9xWm), key name or actor email"
    )
    search.fill("billing")
    expect(_rows(page)).to_have_count(1)  # not globex's key of the same name
    expect(_rows(page)).to_contain_text("k7Hq2P9xWm")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"events-search-{suffix}.png", full_page=True)
    search.fill("admin@acme")
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page)).to_contain_text("Telemetry collector")
    search.fill("aB3dE5gH7j")
    expect(_rows(page)).to_contain_text("Telemetry collector")
    search.fill("owner@globex.test")
    expect(page.get_by_text("No events match")).to_be_visible()
    # The keyboard: Enter on the box searches too.
    search.fill("")
    search.press("Enter")
    expect(_rows(page)).to_have_count(2)
    assert Axe().run(page).response["violations"] == []


@pytest.mark.parametrize(("width", "height", "suffix"), VIEWPORTS)
def test_a_refused_import_names_its_lines_on_the_jobs_page(
    page, developer, acme, width, height, suffix
):
    problems = [
        {
            "row": 2,
            "line": 3,
            "errors": {"external_id": ["Another customer already has this external ID."]},
        },
        {"row": 4, "line": 6, "errors": {"name": ["This field is required."]}},
    ]
    Job.objects.create(
        tenant=acme,
        environment="production",
        key_id="k7Hq2P9xWm",
        owner=developer,
        kind=Job.Kind.CUSTOMER_IMPORT,
        status=Job.Status.FAILED,
        error=import_failure(problems, 5),
        details=problems,
        finished_at=timezone.now(),
    )
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto("/t/acme/jobs/")
    table = page.locator("#job-table")
    expect(table).to_contain_text("2 of 5 rows are invalid; nothing was imported.")
    expect(table).to_contain_text(
        "Line 3, external_id: Another customer already has this external ID."
    )
    expect(table).to_contain_text("Line 6, name: This field is required.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"jobs-import-refused-{suffix}.png", full_page=True)
