"""Issue 16, item 1: GitHub's secret scanning partner protocol at `POST /api/leaks/github`."""

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail

from apikeys import keyformat, services
from apikeys.models import ApiKey, Status
from leaks import services as leak_services
from tenants.models import Event, LeakPolicy, Membership
from tests.leaks.conftest import IDENTIFIER, match, sign

URL = "https://github.com/acme/site/blob/abc123/config.py#L3"


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _leak_events():
    return Event.objects.filter(action=Event.Action.KEY_LEAKED)


def _look_alike(token: str) -> str:
    """The same key with its checksum's last character changed: the shape, not the key."""
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.mark.django_db(transaction=True)  # real commits: the change reaches every worker
def test_a_signed_report_revokes_a_live_key_so_that_the_next_api_request_is_refused(
    api, new_key, admin, developer, send_report
):
    key = new_key()
    for _ in range(2):  # warm: the second is served from the worker's cache
        assert api("GET", "/me", key).status_code == 200
    response = send_report([match(key)])
    assert response.status_code == 200
    assert response.json() == [
        {"token_hash": _sha(key), "token_type": "keyward_api_key", "label": "true_positive"}
    ]
    refused = api("GET", "/me", key)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"].lower()
    record = ApiKey.objects.get(pk=new_key.last.pk)
    assert record.status == Status.REVOKED and record.leak_source == URL
    event = _leak_events().get(target_id=record.key_id)
    assert event.changes["source"] == URL and event.changes["policy"] == "revoked"
    assert "GitHub" in event.changes["reporter"]
    assert Event.objects.filter(action=Event.Action.KEY_REVOKED, target_id=record.key_id).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@acme.test", "dev@acme.test"]
    for message in mail.outbox:
        assert record.key_id in message.body and record.name in message.body
        assert URL in message.body and "revoked" in message.body
        assert key not in message.body and key not in message.subject
    assert key not in response.content.decode()


def test_a_bad_signature_an_unknown_key_and_no_signature_are_the_same_401_and_change_nothing(
    new_key, send_report, reporter
):
    key = new_key()
    body = json.dumps([match(key)]).encode()
    other = ec.generate_private_key(ec.SECP256R1())
    refusals = [
        send_report(body, key=other),  # signed by someone else
        send_report(body, signature=sign(body + b" ", other)),  # over another body
        send_report(body, identifier="0" * 64),  # an unknown reporter
        send_report(body, signature=""),  # unsigned
        send_report(body, signature="not base64!"),
        send_report(body, identifier=""),
    ]
    reporter.is_active = False
    reporter.save()
    refusals.append(send_report(body))  # an inactive reporter's, well signed
    for response in refusals:
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == "The report's signature could not be verified."
    assert len({r.content for r in refusals}) == 1
    assert ApiKey.objects.get(pk=new_key.last.pk).status == Status.ACTIVE
    assert not _leak_events().exists() and not mail.outbox


def test_the_same_report_twice_changes_nothing_the_second_time(new_key, admin, send_report):
    key = new_key()
    first = send_report([match(key)])
    second = send_report([match(key)])
    assert first.json() == second.json() and second.json()[0]["label"] == "true_positive"
    assert _leak_events().count() == 1
    assert Event.objects.filter(action=Event.Action.KEY_REVOKED).count() == 1
    assert len(mail.outbox) == 2  # the owner and the admin, once


def test_look_alikes_are_false_positives_and_cost_no_query(
    new_key, send_report, django_assert_num_queries, admin
):
    key = new_key()
    look_alikes = [
        _look_alike(key),  # the checksum is wrong
        key[:-1],  # truncated
        key.replace("kw_live_", "kw_prod_"),  # another prefix
        "kw_live_" + "a" * 40,
        "ghp_" + "a" * 36,
        "",
    ][:-1]
    # The report's one query is its reporter's lookup; garbage adds none.
    with django_assert_num_queries(1):
        response = send_report([match(token) for token in look_alikes])
    assert [entry["label"] for entry in response.json()] == ["false_positive"] * len(look_alikes)
    assert ApiKey.objects.get(pk=new_key.last.pk).status == Status.ACTIVE
    assert not _leak_events().exists()


def test_an_old_secret_of_a_regenerated_key_is_a_false_positive(new_key, developer, send_report):
    old = new_key()
    services.api_key_regenerate(key=new_key.last, membership=Membership.objects.get(user=developer))
    response = send_report([match(old)])
    assert response.json()[0]["label"] == "false_positive"
    record = ApiKey.objects.get(pk=new_key.last.pk)
    assert record.status == Status.ACTIVE and record.leaked_at is None


def test_each_key_is_handled_by_its_own_tenants_policy_and_told_to_its_own_people(
    new_key, admin, outsider, globex, send_report
):
    acme_key = new_key()
    acme_record = new_key.last
    globex.settings.leak_policy = LeakPolicy.NOTIFY
    globex.settings.save()
    globex_key = new_key(user=outsider, tenant=globex)
    globex_record = new_key.last
    response = send_report([match(acme_key), match(globex_key)])
    assert [e["label"] for e in response.json()] == ["true_positive", "true_positive"]
    acme_record.refresh_from_db()
    globex_record.refresh_from_db()
    assert acme_record.status == Status.REVOKED
    assert globex_record.status == Status.ACTIVE and globex_record.leaked_at is not None
    globex_mail = [m for m in mail.outbox if globex_record.key_id in m.subject]
    assert [m.to for m in globex_mail] == [["owner@globex.test"]]
    assert "still works" in globex_mail[0].body
    assert all(acme_record.key_id not in m.body for m in globex_mail)
    assert _leak_events().get(target_id=globex_record.key_id).tenant == globex


def test_the_disable_policy_disables_the_key(new_key, acme, send_report):
    acme.settings.leak_policy = LeakPolicy.DISABLE
    acme.settings.save()
    key = new_key()
    send_report([match(key)])
    record = ApiKey.objects.get(pk=new_key.last.pk)
    assert record.status == Status.INACTIVE and record.leaked_at is not None
    assert _leak_events().get().changes["policy"] == "disabled"


def test_bodies_that_are_no_report_are_problems_and_change_nothing(new_key, send_report):
    key = new_key()
    for body, status in [
        (b"not json", 400),
        (json.dumps({"token": key}).encode(), 422),
        (json.dumps([{"token": 42}]).encode(), 422),
        (json.dumps([match(key), "x"]).encode(), 422),
        (json.dumps([match("x")] * 1001).encode(), 422),
    ]:
        response = send_report(body)
        assert response.status_code == status, body[:40]
        assert response["Content-Type"] == "application/problem+json"
    assert ApiKey.objects.get(pk=new_key.last.pk).status == Status.ACTIVE


def test_a_report_larger_than_a_mebibyte_is_refused_before_it_is_read(send_report):
    body = json.dumps([match("x" * 900)] * 1200).encode()
    assert len(body) > 1024 * 1024
    response = send_report(body)
    assert response.status_code == 413 and response["Content-Type"] == "application/problem+json"


def test_other_methods_get_a_405_problem(client):
    response = client.get("/api/leaks/github")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert response["Content-Type"] == "application/problem+json"


def test_a_reporter_needs_a_p256_public_key_and_its_writes_are_events(root, signing_key):
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from django.core.exceptions import ValidationError

    ed = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    for pem in [ed, "not a key", ""]:
        with pytest.raises(ValidationError) as refused:
            leak_services.reporter_create(
                name="X", key_identifier="k1", public_key_pem=pem, actor=root
            )
        assert "public_key_pem" in refused.value.message_dict
    reporter = leak_services.reporter_create(
        name="GitHub",
        key_identifier=IDENTIFIER,
        public_key_pem=signing_key.public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        actor=root,
    )
    leak_services.reporter_delete(reporter=reporter, actor=root)
    actions = list(
        Event.objects.filter(target_type="leak_reporter").values_list("action", flat=True)
    )
    assert sorted(actions) == ["leak_reporter.added", "leak_reporter.removed"]


def test_the_token_hash_is_sha256_of_the_token(new_key, send_report):
    """GitHub's feedback names a token by `token_hash` (SHA-256) or `token_raw`: the hash, so
    that the answer never carries a secret back."""
    key = new_key()
    garbage = "kw_live_not-a-key"
    response = send_report([match(key), match(garbage)])
    assert [entry["token_hash"] for entry in response.json()] == [_sha(key), _sha(garbage)]
    assert keyformat.parse(key) is not None
