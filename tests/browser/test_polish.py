"""The polish pass after issue 13's merges, in Chromium at 1280x800 and 390x844: the Events
tables (tenant page and the key page's card) read as cards on a phone, a failed import's job
shows its summary with the invalid rows behind a keyboard-operable toggle, and every time on
the key page says its zone."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from apikeys.models import ApiKey, RequestLog
from jobs.models import Job
from jobs.tasks import import_failure
from tenants.models import Event, Membership
from tenants.services import event_record
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import PASSWORD, CustomerFactory, LicenseFactory, api_key, lift_key_limits

VIEWPORTS = [(1280, 800, "desktop"), (390, 844, "phone")]
LONG_DESCRIPTION = (
    "Reads the partner billing exports every night and reconciles them with the ledger; "
    "owned by the finance integrations team"
)


@pytest.fixture
def used_key(acme, developer):
    lift_key_limits(acme)
    membership = Membership.objects.get(user=developer)
    key, _ = api_key(membership, name="Billing export", description=LONG_DESCRIPTION)
    used = timezone.now().replace(hour=14, minute=2)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=used)
    event_record(
        action=Event.Action.KEY_UPDATED,
        actor=developer,
        tenant=acme,
        target_type="key",
        target_id=key.key_id,
        target_name=key.name,
        changes={"description": {"before": "", "after": LONG_DESCRIPTION}},
        ip_address="2001:db8:85a3::8a2e:370:7334",
    )
    return key


def _fits(page, selector: str) -> None:
    """Neither the page nor the table's own region scrolls sideways."""
    widths = page.evaluate(
        """(selector) => {
            const region = document.querySelector(selector);
            return [document.documentElement.scrollWidth, window.innerWidth,
                    region.scrollWidth, region.clientWidth];
        }""",
        selector,
    )
    page_width, window_width, region_width, region_client = widths
    assert page_width <= window_width, widths
    assert region_width <= region_client + 1, widths


@pytest.mark.parametrize(("width", "height", "suffix"), VIEWPORTS)
def test_the_events_page_fits_a_phone_as_labelled_cards(
    page, admin, used_key, width, height, suffix
):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/t/acme/events/")
    _fits(page, "#events-table .table-scroll")
    row = page.locator("#events-table tbody tr").first
    expect(row).to_contain_text(LONG_DESCRIPTION)
    if suffix == "phone":
        # A card: each fact under its label, the changes across the card.
        label = row.locator("td[data-label='Changes']")
        assert label.evaluate("td => getComputedStyle(td, '::before').content") == '"Changes"'
        box = label.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert Axe().run(page).response["violations"] == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"events-cards-{suffix}.png", full_page=True)


@pytest.mark.parametrize(("width", "height", "suffix"), VIEWPORTS)
def test_the_key_pages_events_card_fits_a_phone_and_every_time_says_utc(
    page, developer, used_key, width, height, suffix
):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/t/acme/keys/{used_key.key_id}/")
    details = page.locator("dl.details")
    for term in ("Created", "Last updated", "Last used"):
        value = details.locator(f"dt:text-is('{term}') + dd")
        expect(value).to_contain_text(" UTC")
    expect(details.locator("dt:text-is('Last used') + dd")).to_contain_text("14:02 UTC")
    events = page.locator("section.card", has=page.get_by_role("heading", name="Events"))
    _fits(page, "section.table-card .table-scroll")
    expect(events).to_contain_text(LONG_DESCRIPTION)
    assert Axe().run(page).response["violations"] == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"key-page-events-{suffix}.png", full_page=True)


@pytest.mark.parametrize(("width", "height", "suffix"), VIEWPORTS)
def test_a_failed_import_shows_its_summary_and_its_rows_on_demand(
    page, developer, acme, width, height, suffix
):
    problems = [
        {"row": n, "line": n + 1, "errors": {"external_id": [f"Duplicate external ID ext-{n}."]}}
        for n in range(1, 9)
    ]
    Job.objects.create(
        tenant=acme,
        environment="production",
        key_id="k7Hq2P9xWm",
        owner=developer,
        kind=Job.Kind.CUSTOMER_IMPORT,
        status=Job.Status.FAILED,
        error=import_failure(problems, 40),
        details=problems,
        finished_at=timezone.now(),
    )
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto("/t/acme/jobs/")
    result = page.locator("#job-table td.job-result")
    # The cell says what happened in one sentence; the rows wait behind a toggle.
    expect(result.locator(".job-error")).to_have_text(
        "8 of 40 rows are invalid; nothing was imported."
    )
    row_list = result.get_by_role("listitem")
    expect(row_list.first).to_be_hidden()
    toggle = result.get_by_text("Show the 8 invalid rows")
    # By keyboard: Tab reaches the toggle, Enter opens it, every row is named (not only five).
    toggle.focus()
    page.keyboard.press("Enter")
    expect(row_list).to_have_count(8)
    expect(row_list.last).to_have_text("Line 9, external_id: Duplicate external ID ext-8.")
    expect(row_list.last).to_be_visible()
    _fits(page, "#job-table .table-scroll")
    assert Axe().run(page).response["violations"] == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"jobs-failed-import-{suffix}.png", full_page=True)


@pytest.mark.parametrize(("width", "height", "suffix"), VIEWPORTS)
def test_request_logs_and_customers_fit_a_phone_as_cards(page, admin, acme, width, height, suffix):
    for n in range(3):
        RequestLog.objects.create(
            created_at=timezone.now(),
            tenant=acme,
            key_id="k7Hq2P9xWm",
            environment="production",
            method="GET",
            path=f"/api/production/v1/customers/cus_{'x' * 12}/licenses?page={n}",
            status=429 if n else 200,
            latency_ms=12.5,
            client_ip="2001:db8:85a3::8a2e:370:7334",
        )
        customer = CustomerFactory(
            tenant=acme, name=f"Quarterly Reconciliation Partners {n}", external_id=f"crm-{n}"
        )
        LicenseFactory(customer=customer)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "admin@acme.test", PASSWORD)
    for path, table, shot in [
        ("/t/acme/logs/", "#log-table", "logs"),
        ("/t/acme/customers/", "#customer-table", "customers"),
    ]:
        page.goto(path)
        _fits(page, f"{table} .table-scroll")
        cells = page.locator(f"{table} tbody td[data-label]")
        expect(cells.first).to_be_visible()
        if suffix == "phone":
            # Each fact under its label; nothing past the window's right edge.
            for index in range(cells.count()):
                box = cells.nth(index).bounding_box()
                assert box["x"] + box["width"] <= width, cells.nth(index).inner_text()
        assert Axe().run(page).response["violations"] == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{shot}-cards-{suffix}.png", full_page=True)
