"""A tour of the portal as each persona sees it, at a laptop's and a phone's size.

Every page fits its viewport (no sideways scroll of the page itself) and loads without a
script error. The screenshots land in `test-artifacts/tour/`; `make screenshots` copies the
ones the README shows into `docs/screenshots/`.
"""

import io

import pytest

from tests.browser.conftest import ARTIFACTS, sign_in

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}

# (persona, page name, address)
TOUR = [
    ("admin@acme.test", "overview", "/t/acme/"),
    ("admin@acme.test", "console", "/t/acme/keys/"),
    ("admin@acme.test", "members", "/t/acme/members/"),
    ("admin@acme.test", "events", "/t/acme/events/"),
    ("admin@acme.test", "settings", "/t/acme/settings/"),
    ("admin@acme.test", "logs", "/t/acme/logs/"),
    ("admin@acme.test", "customers", "/t/acme/customers/"),
    ("admin@acme.test", "jobs", "/t/acme/jobs/"),
    ("admin@acme.test", "provider-api", "/t/acme/integrations/provider-api/"),
    ("dev@acme.test", "profile", "/t/acme/profile/"),
    ("dev@acme.test", "api-guide", "/t/acme/api/"),
    ("dev@acme.test", "key", None),  # the developer's busiest key
]


def _busiest_key_address() -> str:
    from django.db.models import Sum

    from apikeys.models import ApiKey, KeyUsageDay

    busiest = (
        KeyUsageDay.objects.filter(tenant__slug="acme")
        .values("key_id")
        .annotate(total=Sum("requests"))
        .order_by("-total")
        .first()
    )
    keys = ApiKey.objects.filter(tenant__slug="acme", owner__email="dev@acme.test")
    key = keys.filter(key_id=busiest["key_id"]).first() if busiest else None
    return (key or keys.order_by("created_at").first()).get_absolute_url()


@pytest.fixture
def demo(db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


@pytest.mark.parametrize("size", SIZES)
def test_every_page_fits_the_screen_and_loads_cleanly(chromium, live_server, demo, size):
    width, height = SIZES[size]
    folder = ARTIFACTS / "tour"
    folder.mkdir(parents=True, exist_ok=True)
    overflowing, errors = {}, {}
    for persona in dict.fromkeys(p for p, _, _ in TOUR):
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        page = context.new_page()
        seen: list[str] = []
        page.on("pageerror", lambda exc, seen=seen: seen.append(str(exc)))
        page.on("console", lambda m, seen=seen: m.type == "error" and seen.append(m.text))
        sign_in(page, persona, "keyward-demo")
        for who, name, address in TOUR:
            if who != persona:
                continue
            seen.clear()
            page.goto(address or _busiest_key_address())
            page.wait_for_load_state("networkidle")
            page.screenshot(path=folder / f"{name}-{size}.png", full_page=True)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                overflowing[name] = scroll
            if seen:
                errors[name] = list(seen)
        context.close()
    assert overflowing == {}, f"pages wider than {width}px: {overflowing}"
    assert errors == {}
