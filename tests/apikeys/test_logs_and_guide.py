"""The portal pages behind the API keys: request logs, a key's usage chart, the API guide."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apikeys.models import KeyUsageDay, RequestLog
from tests.factories import MembershipFactory

LOGS = reverse("apikeys:logs", args=["acme"])
GUIDE = reverse("apikeys:api_guide", args=["acme"])


def _log(tenant, key_id, status=200, minutes_ago=1, path="/api/production/v1/me"):
    return RequestLog.objects.create(
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        tenant=tenant,
        key_id=key_id,
        environment="production",
        method="GET",
        path=path,
        status=status,
        latency_ms=1.5,
        client_ip="198.51.100.7",
    )


@pytest.fixture
def traffic(acme, globex, developer, new_key):
    from apikeys import keyformat

    mine = keyformat.parse(new_key()).key_id
    colleague = MembershipFactory(tenant=acme, is_developer=True).user
    theirs = keyformat.parse(new_key(user=colleague)).key_id
    _log(acme, mine, 200)
    _log(acme, mine, 429, minutes_ago=90)
    _log(acme, theirs, 403)
    _log(globex, "GlobexKey01", 200)
    return {"mine": mine, "theirs": theirs}


def _keys_listed(response) -> set[str]:
    return {log.key_id for log in response.context["page"].object_list}


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("developer", 200), ("member", 403), ("outsider", 404)]
)
def test_logs_page_access(personas, client_for, persona, status, traffic):
    assert client_for(personas[persona]).get(LOGS).status_code == status


def test_admins_see_every_keys_requests_and_developers_their_own(personas, client_for, traffic):
    admin_page = client_for(personas["admin"]).get(LOGS)
    assert _keys_listed(admin_page) == {traffic["mine"], traffic["theirs"]}
    assert _keys_listed(client_for(personas["developer"]).get(LOGS)) == {traffic["mine"]}


def test_the_logs_page_says_how_late_a_request_can_appear(admin, client_for, settings):
    settings.API_LOG_FLUSH_SECONDS = 7
    page = client_for(admin).get(LOGS).content.decode()
    assert "may take up to 8 seconds to appear" in page  # a batch's age plus the 1 s tick


def test_logs_filter_by_key_status_and_time(personas, client_for, traffic):
    client = client_for(personas["admin"])
    assert _keys_listed(client.get(LOGS + f"?key={traffic['theirs']}")) == {traffic["theirs"]}
    statuses = [log.status for log in client.get(LOGS + "?status=4xx").context["page"]]
    assert sorted(statuses) == [403, 429]
    assert [log.status for log in client.get(LOGS + "?status=429").context["page"]] == [429]
    since = (timezone.now() - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    recent = client.get(LOGS + f"?since={since}").context["page"]
    assert sorted(log.status for log in recent) == [200, 403]
    fragment = client.get(LOGS + "?status=5xx", headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<section id="log-table"')


def test_the_key_page_draws_30_days_of_requests(developer, client_for, new_key, acme):
    from apikeys import keyformat

    key_id = keyformat.parse(new_key()).key_id
    KeyUsageDay.objects.create(tenant=acme, key_id=key_id, day=date.today(), requests=1234)
    KeyUsageDay.objects.create(
        tenant=acme, key_id=key_id, day=date.today() - timedelta(days=40), requests=999
    )
    page = client_for(developer).get(reverse("apikeys:detail", args=["acme", key_id]))
    body = page.content.decode()
    assert body.count('class="chart-column"') == 30  # one stacked bar per day
    assert "1,234 requests over 30 days" in body


def test_the_api_guide_shows_this_tenants_endpoints(personas, client_for):
    page = client_for(personas["member"]).get(GUIDE + "?environment=staging").content.decode()
    assert "http://testserver/api/staging/v1/me" in page and "kw_stg_" in page
    assert client_for(personas["outsider"]).get(GUIDE).status_code == 404
