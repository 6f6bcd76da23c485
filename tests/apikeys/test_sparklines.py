"""Each key row's 7-day sparkline (issue 13): server-rendered SVG from KeyUsageDay, one query
for the whole page, its total said in words."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apikeys import selectors
from apikeys.models import KeyUsageDay, today
from tenants.models import Membership
from tests.factories import lift_key_limits
from web.charts import compact_number, sparkline

CONSOLE = reverse("apikeys:console", args=["acme"])
PROFILE = reverse("apikeys:my_keys", args=["acme"])


def test_a_sparkline_has_a_bar_per_day_and_says_its_total():
    end = date(2026, 3, 10)
    chart = sparkline(
        {end: 30, end - timedelta(days=2): 10, end - timedelta(days=9): 999},
        days=7,
        end=end,
        unit="requests",
    )
    assert [bar.value for bar in chart.bars] == [0, 0, 0, 0, 10, 0, 30]
    assert chart.total == 40 and chart.summary == "40 requests in the last 7 days"
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.height == chart.height - 2 and tallest.y == 2
    # An idle day keeps a stub, so a quiet week still reads as a week.
    assert all(bar.height == 1 for bar in chart.bars if bar.value == 0)
    assert chart.bars[-1].label == "Tue 2026-03-10: 30 requests"
    assert sparkline({end: 1}, days=7, end=end, unit="requests").summary == (
        "1 request in the last 7 days"
    )
    assert sparkline({}, days=7, end=end, unit="requests").total_short == "0"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (812, "812"), (1000, "1k"), (4_130, "4.1k"), (12_345, "12k"), (3_200_000, "3.2M")],
)
def test_a_total_is_written_short(value, text):
    assert compact_number(value) == text


def _usage(key, *days_and_requests, tenant=None):
    for offset, requests in days_and_requests:
        KeyUsageDay.objects.create(
            tenant=tenant or key.tenant,
            key_id=key.key_id,
            day=today() - timedelta(days=offset),
            requests=requests,
        )


def test_the_weeks_usage_comes_from_the_members_tenant_only(make_key, developer, globex):
    key, _ = make_key(developer)
    _usage(key, (0, 5), (6, 7), (7, 1000))
    # A row under another tenant never counts, even with this key's ID.
    _usage(key, (1, 500), tenant=globex)
    membership = Membership.objects.get(user=developer)
    usage = selectors.api_keys_daily_requests(
        membership=membership, key_ids=[key.key_id, "NoSuchKey0"], days=7
    )
    assert usage == {
        key.key_id: {today(): 5, today() - timedelta(days=6): 7},
        "NoSuchKey0": {},
    }


def test_each_row_of_both_tables_has_its_sparkline(admin_client, client_for, make_key, developer):
    busy, _ = make_key(developer, name="Busy")
    make_key(developer, name="Quiet")
    _usage(busy, (0, 800), (3, 12), (8, 5000))
    for page in (
        admin_client.get(CONSOLE).content.decode(),
        client_for(developer).get(PROFILE).content.decode(),
    ):
        assert page.count('<span class="sparkline"><svg') == 2
        assert 'role="img" aria-label="812 requests in the last 7 days"' in page
        assert 'aria-label="0 requests in the last 7 days"' in page
        assert "style=" not in page.split('<span class="sparkline">', 1)[1].split("</svg>")[0]


@pytest.mark.parametrize("table", ["console", "profile"])
def test_the_query_count_does_not_grow_with_keys_that_have_usage(
    admin, client_for, make_key, developer, acme, table
):
    lift_key_limits(acme)
    client = client_for(admin if table == "console" else developer)
    url = CONSOLE if table == "console" else PROFILE

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for n in range(2):
        _usage(make_key(developer, name=f"Key {n}")[0], (0, n + 1), (1, 3))
    few = count()
    for n in range(2, 30):
        _usage(make_key(developer, name=f"Key {n}")[0], (0, n + 1), (2, 4), (6, 1))
    assert count() == few
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    usage_queries = [q for q in queries if "apikeys_keyusageday" in q["sql"]]
    assert len(usage_queries) == 1
