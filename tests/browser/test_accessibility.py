"""axe-core (through axe-playwright-python) finds no violation on the portal's pages."""

import io

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import sign_in

PAGES = [
    "/t/acme/",
    "/t/acme/profile/",
    "/t/acme/keys/",
    "/t/acme/members/",
    "/t/acme/events/",
    "/t/acme/settings/",
    "/t/acme/logs/",
    "/t/acme/customers/",
    "/t/acme/jobs/",
    "/t/acme/api/",
    "/t/acme/integrations/provider-api/",
]


@pytest.fixture
def demo(db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


def _violations(page) -> list:
    result = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result.response["violations"]
    ]


def test_the_sign_in_page_has_no_axe_violation(page, db):
    page.goto("/accounts/sign-in/")
    assert _violations(page) == []


def test_every_admin_page_has_no_axe_violation(page, demo):
    sign_in(page, "admin@acme.test", "keyward-demo")
    found = {}
    for url in PAGES:
        page.goto(url)
        if problems := _violations(page):
            found[url] = problems
    assert found == {}
