"""The key page's 30-day chart: requests per day stacked by status class, with a legend and
the same figures as a table for screen readers, in the page and in its HTMX fragment."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from apikeys import keyformat
from apikeys.models import KeyUsageDay


def _usage(acme, key_id, day, **counts):
    counts.setdefault("requests", sum(counts.values()))
    return KeyUsageDay.objects.create(tenant=acme, key_id=key_id, day=day, **counts)


def _rows(body: str) -> dict[str, list[str]]:
    table = body[body.index("<caption>Requests per day by status class") :]
    table = table[: table.index("</table>")]
    return {
        day: re.findall(r"<td>([^<]*)</td>", cells)
        for day, cells in re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table)
    }


def test_the_key_fragment_has_the_chart_by_status_class_and_its_text_alternative(
    developer, client_for, new_key, acme
):
    key_id = keyformat.parse(new_key()).key_id
    today = timezone.now().date()
    _usage(acme, key_id, today, succeeded=90, client_errors=6, rate_limited=3, server_errors=1)
    _usage(acme, key_id, today - timedelta(days=2), succeeded=7)
    response = client_for(developer).get(
        reverse("apikeys:detail", args=["acme", key_id]), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="key-page"')  # the fragment, not the page
    assert body.count('class="chart-column"') == 30
    # The legend names each class with its 30-day total.
    legend = body[body.index('<ul class="chart-legend">') :]
    items = re.findall(r"<li>(.*?)</li>", legend[: legend.index("</ul>")])
    assert [re.sub(r"<[^>]+>", "", item) for item in items] == [
        "Succeeded (2xx): 97",
        "Client errors (4xx): 6",
        "Rate limited (429): 3",
        "Server errors (5xx): 1",
    ]
    # The text alternative: every day a row, each class a column.
    rows = _rows(body)
    assert len(rows) == 30
    assert rows[f"{today:%Y-%m-%d}"] == ["100", "90", "6", "3", "1"]
    assert rows[f"{today - timedelta(days=2):%Y-%m-%d}"] == ["7", "7", "0", "0", "0"]
    assert rows[f"{today - timedelta(days=1):%Y-%m-%d}"] == ["0", "0", "0", "0", "0"]
    # Each bar says what it holds when pointed at.
    assert (
        f"<title>{today:%Y-%m-%d}: 100 requests (90 succeeded (2xx), 6 client errors (4xx), "
        "3 rate limited (429), 1 server errors (5xx))</title>"
    ) in body
    assert "style=" not in body[body.index('<figure class="chart') : body.index("</figure>")]
    assert "Not classified" not in body


def test_counts_from_before_the_split_show_as_not_classified(developer, client_for, new_key, acme):
    key_id = keyformat.parse(new_key()).key_id
    today = timezone.now().date()
    _usage(acme, key_id, today, requests=50, succeeded=10)  # 40 counted before the classes
    body = (
        client_for(developer).get(reverse("apikeys:detail", args=["acme", key_id])).content.decode()
    )
    assert "Not classified (counted before the split): <strong>40</strong>" in body
    assert _rows(body)[f"{today:%Y-%m-%d}"] == ["50", "10", "0", "0", "0", "40"]


def test_the_chart_counts_only_this_keys_last_30_days(developer, client_for, new_key, acme):
    key_id = keyformat.parse(new_key()).key_id
    other = keyformat.parse(new_key()).key_id
    today = timezone.now().date()
    _usage(acme, key_id, today - timedelta(days=30), succeeded=500)
    _usage(acme, other, today, succeeded=800)
    body = (
        client_for(developer).get(reverse("apikeys:detail", args=["acme", key_id])).content.decode()
    )
    assert "0 requests over 30 days" in body
    assert all(cells[0] == "0" for cells in _rows(body).values())
