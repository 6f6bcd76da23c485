import pytest
from django.urls import reverse

from tenants.models import Event
from tenants.services import event_record
from tenants.views import EVENTS_PER_PAGE
from tests.helpers import htmx_headers

EVENTS = reverse("tenants:events", args=["acme"])


def _event(tenant, n, target_id="", actor=None, name=""):
    return event_record(
        action=Event.Action.ROLE_CHANGED,
        actor=actor,
        tenant=tenant,
        target_type="key" if target_id else "member",
        target_id=target_id or str(n),
        target_name=name or f"target {n}",
    )


def test_events_are_listed_newest_first_and_paginated(admin, acme, client_for):
    for n in range(EVENTS_PER_PAGE + 5):
        _event(acme, n)
    client = client_for(admin)
    first = client.get(EVENTS).content.decode()
    assert first.index("target 54") < first.index("target 53")
    assert "target 4<" not in first
    assert "Page 1 of 2" in first
    second = client.get(EVENTS + "?page=2").content.decode()
    assert "target 4<" in second and "target 0<" in second


def test_events_are_searchable_by_key_id(admin, acme, client_for):
    _event(acme, 1, target_id="kAbc123")
    _event(acme, 2, target_id="kXyz789")
    body = client_for(admin).get(EVENTS + "?q=abc1", headers=htmx_headers()).content.decode()
    assert "kAbc123" in body and "kXyz789" not in body
    assert body.lstrip().startswith('<section id="events-table"')


def test_events_of_another_tenant_never_show(admin, acme, globex, client_for):
    _event(globex, 1, target_id="kGlobex1")
    assert "kGlobex1" not in client_for(admin).get(EVENTS).content.decode()


def test_an_event_cannot_be_changed_or_deleted(acme):
    event = _event(acme, 1)
    event.target_name = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).update(target_name="rewritten")
    with pytest.raises(TypeError):
        Event.objects.all().delete()
    assert Event.objects.get(pk=event.pk).target_name == "target 1"


def test_an_empty_log_says_what_will_appear(admin, client_for):
    assert "No events yet" in client_for(admin).get(EVENTS).content.decode()


def _search(client, query: str) -> str:
    return client.get(EVENTS, {"q": query}, headers=htmx_headers()).content.decode()


def test_events_are_searchable_by_key_name_and_actor_email(admin, developer, acme, client_for):
    _event(acme, 1, target_id="kAbc123456", name="Billing export")
    _event(acme, 2, target_id="kXyz789012", name="Telemetry collector", actor=developer)
    client = client_for(admin)
    by_name = _search(client, "billing EXP")
    assert "kAbc123456" in by_name and "kXyz789012" not in by_name
    by_actor = _search(client, "dev@acme")
    assert "kXyz789012" in by_actor and "kAbc123456" not in by_actor
    assert "No events match" in _search(client, "nothing-like-this")


def test_a_search_never_matches_another_tenants_event(admin, acme, globex, outsider, client_for):
    # The same key ID, name and actor email in globex: only acme's event may show.
    _event(globex, 1, target_id="kShared001", name="Shared name", actor=outsider)
    _event(acme, 2, target_id="kAcmeOnly1", name="Acme key")
    client = client_for(admin)
    for query in ("kShared001", "Shared name", "owner@globex.test", "globex"):
        body = _search(client, query)
        assert "<table" not in body and "No events match" in body, query


def test_the_search_box_says_what_it_matches_with_a_key_id_of_the_right_length(admin, client_for):
    import re

    from apikeys import keyformat

    page = client_for(admin).get(EVENTS).content.decode()
    placeholder = re.search(r'id="id_q"[^>]* placeholder="([^"]*)"', page).group(1)
    example = re.search(r"e\.g\. (\w+)", placeholder).group(1)
    assert keyformat.KEY_ID_PATTERN.fullmatch(example), example
    assert "key name" in placeholder and "email" in placeholder
    assert ">Search events</label>" in page
