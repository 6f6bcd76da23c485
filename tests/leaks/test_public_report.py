"""Issue 16, item 2: anyone can report a leaked key, and learns nothing from the answer."""

import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from apikeys.models import ApiKey, Status
from leaks.services import PUBLIC_REPORTS_PER_WINDOW
from tenants.models import Event
from tests.helpers import csrf_token_for

URL = reverse("leaks:report")


@pytest.fixture
def reporter_client():
    client = Client(enforce_csrf_checks=True)
    client.token = csrf_token_for(client, URL)
    return client


def _report(client, key, url="", note="", **extra):
    data = {"key": key, "url": url, "note": note, "csrfmiddlewaretoken": client.token}
    return client.post(URL, data, **extra)


def _page(response) -> str:
    """The answer without what differs per request anyway (the masked CSRF token, the nonce)."""
    text = response.content.decode()
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "", text)
    return re.sub(r'nonce="[^"]+"', "", text)


def test_the_sign_in_page_links_to_the_report_page_which_needs_no_sign_in(client):
    assert URL in client.get(reverse("login")).content.decode()
    page = client.get(URL)
    assert page.status_code == 200 and "Report a leaked key" in page.content.decode()


def test_a_reported_live_key_is_handled_with_the_reporters_note_in_its_event(
    reporter_client, new_key, admin, django_capture_on_commit_callbacks
):
    key = new_key()
    with django_capture_on_commit_callbacks(execute=True):
        response = _report(
            reporter_client, f"  {key}\n", url="https://paste.example/abc", note="In a paste."
        )
    assert response.status_code == 200
    record = ApiKey.objects.get(pk=new_key.last.pk)
    assert record.status == Status.REVOKED and record.leak_source == "https://paste.example/abc"
    event = Event.objects.get(action=Event.Action.KEY_LEAKED)
    assert event.changes["note"] == "In a paste." and event.changes["reporter"] == "public report"
    assert event.ip_address == "127.0.0.1"
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@acme.test", "dev@acme.test"]


def test_the_answer_is_the_same_whatever_was_reported(reporter_client, new_key, developer):
    live = new_key()
    other = new_key()
    answers = [
        _report(reporter_client, live),
        _report(reporter_client, live),  # again: already handled
        _report(reporter_client, other[:-1] + ("0" if other[-1] != "0" else "1")),  # look-alike
        _report(reporter_client, "kw_live_" + "x" * 40),
        _report(reporter_client, "hello"),
    ]
    assert {response.status_code for response in answers} == {200}
    assert len({_page(response) for response in answers}) == 1
    assert live not in _page(answers[0])


def test_an_empty_form_is_refused_with_a_field_error_and_without_the_token_changes_nothing(
    reporter_client, new_key
):
    new_key()
    response = _report(reporter_client, "")
    assert response.status_code == 400 and "Paste the key you found." in response.content.decode()
    no_csrf = Client(enforce_csrf_checks=True).post(URL, {"key": "x"})
    assert no_csrf.status_code == 403
    assert not Event.objects.filter(action=Event.Action.KEY_LEAKED).exists()


def test_reports_are_rate_limited_per_client_address(reporter_client, new_key):
    for _ in range(PUBLIC_REPORTS_PER_WINDOW):
        assert _report(reporter_client, "kw_live_nothing").status_code == 200
    key = new_key()
    throttled = _report(reporter_client, key)
    assert throttled.status_code == 429 and "Too many reports" in throttled.content.decode()
    assert ApiKey.objects.get(pk=new_key.last.pk).status == Status.ACTIVE
    other = _report(reporter_client, key, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200
    assert ApiKey.objects.get(pk=new_key.last.pk).status == Status.REVOKED


@override_settings(AXES_IPWARE_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_limit_follows_the_forwarded_address(reporter_client):
    for _ in range(PUBLIC_REPORTS_PER_WINDOW):
        assert _report(reporter_client, "x", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert _report(reporter_client, "x", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert _report(reporter_client, "x", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200
