"""Trusted reporters on the system admin site: system admins only, keys checked, events."""

from django.urls import reverse

from leaks.models import TrustedReporter
from tenants.models import Event
from tests.helpers import csrf_token_for
from tests.leaks.conftest import IDENTIFIER, _pem

ADD = reverse("admin:leaks_trustedreporter_add")


def test_a_system_admin_adds_a_reporter_whose_key_must_be_p256(root, client_for, signing_key):
    client = client_for(root)
    token = csrf_token_for(client, ADD)
    data = {"name": "GitHub", "key_identifier": IDENTIFIER, "is_active": "on"}
    refused = client.post(
        ADD, data | {"public_key_pem": "-----BEGIN PUBLIC KEY-----\nnope"}, HTTP_X_CSRFTOKEN=token
    )
    assert refused.status_code == 200
    assert "Paste an ECDSA P-256 public key" in refused.content.decode()
    assert not TrustedReporter.objects.exists()
    added = client.post(ADD, data | {"public_key_pem": _pem(signing_key)}, HTTP_X_CSRFTOKEN=token)
    assert added.status_code == 302
    reporter = TrustedReporter.objects.get()
    assert reporter.name == "GitHub" and reporter.is_active
    event = Event.objects.get(action=Event.Action.LEAK_REPORTER_ADDED)
    assert event.actor == root and event.target_id == IDENTIFIER and event.tenant is None
    change = reverse("admin:leaks_trustedreporter_change", args=[reporter.pk])
    client.post(
        change,
        {"name": "GitHub", "key_identifier": IDENTIFIER, "public_key_pem": _pem(signing_key)},
        HTTP_X_CSRFTOKEN=token,
    )
    assert not TrustedReporter.objects.get().is_active
    changed = Event.objects.get(action=Event.Action.LEAK_REPORTER_CHANGED)
    assert changed.changes == {"active": {"before": True, "after": False}}


def test_tenant_admins_never_see_the_reporters(admin, client_for):
    response = client_for(admin).get(reverse("admin:leaks_trustedreporter_changelist"))
    assert response.status_code == 302  # to the system admin site's sign-in
    assert "/login/" in response["Location"]
