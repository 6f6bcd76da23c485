"""Provider API credentials: a private key shown once, JWT-signed calls, revoke."""

import json
import re
import time
import uuid
from datetime import date

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import serializers
from django.test import Client
from django.urls import reverse

from apikeys.models import ProviderKey
from customers.models import Customer, License, SeatUsage
from tenants.models import Event
from tests.helpers import csrf_token_for

PAGE = reverse("apikeys:provider", args=["acme"])
GENERATE = reverse("apikeys:provider_generate", args=["acme"])
REVOKE = reverse("apikeys:provider_revoke", args=["acme"])
AUDIENCE = "keyward-provider-api"


def _generate(client, replaces: str = "") -> tuple[str, str, str]:
    """Generate a key pair; replacing an active key takes its kid (the confirmation)."""
    data = {"replaces": replaces} if replaces else {}
    response = client.post(GENERATE, data, headers={"X-CSRFToken": client.token})
    assert response.status_code == 200
    body = response.content.decode()
    pem = re.search(r"(-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----)", body, re.S)
    kid = re.search(r'<code id="provider-kid">([^<]+)</code>', body).group(1)
    return pem.group(1), kid, response


def _token(pem: str, kid: str, **claims) -> str:
    now = int(time.time())
    payload = {"iss": "acme", "aud": AUDIENCE, "iat": now, "exp": now + 300} | claims
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, pem, algorithm="EdDSA", headers={"kid": kid})


def _call(token: str | None, query: str = ""):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client().get(f"/api/provider/v1/usage{query}", headers=headers)


@pytest.fixture
def managed(acme, globex):
    initech = Customer.objects.create(tenant=acme, environment="production", name="Initech")
    License.objects.create(
        customer=initech, seats=30, tier="enterprise", trial=True, not_for_resale=True
    )
    SeatUsage.objects.create(customer=initech, day=date.today(), seats_used=21)
    staging = Customer.objects.create(tenant=acme, environment="staging", name="Stage Co")
    SeatUsage.objects.create(customer=staging, day=date.today(), seats_used=5)
    foreign = Customer.objects.create(tenant=globex, environment="production", name="Globex Co")
    SeatUsage.objects.create(customer=foreign, day=date.today(), seats_used=9)


def test_the_private_key_is_shown_once_and_never_stored(admin_client, caplog):
    pem, kid, response = _generate(admin_client)
    assert "no-store" in response["Cache-Control"]
    assert "I've made a copy of the above data" in response.content.decode()
    assert 'data-enables="provider-done"' in response.content.decode()
    stored = ProviderKey.objects.get()
    assert stored.kid == kid and "PUBLIC KEY" in stored.public_key_pem
    dump = serializers.serialize("json", [*ProviderKey.objects.all(), *Event.objects.all()])
    body = pem.splitlines()[1]
    assert body not in dump and body not in caplog.text
    assert body not in admin_client.get(PAGE).content.decode()
    assert Event.objects.filter(action=Event.Action.PROVIDER_KEY_CREATED).count() == 1


def test_a_signed_token_reads_every_managed_customer_in_production(admin_client, managed):
    pem, kid, _ = _generate(admin_client)
    response = _call(_token(pem, kid, jti=str(uuid.uuid4())))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tenant"] == "acme" and body["period"] == "daily"
    assert [
        (r["customer_name"], r["seats_used"], r["tier"], r["trial"], r["not_for_resale"])
        for r in body["data"]
    ] == [("Initech", 21, "enterprise", True, True)]
    monthly = _call(_token(pem, kid), "?period=monthly").json()
    assert monthly["data"][0]["month"] == date.today().strftime("%Y-%m")
    assert _call(_token(pem, kid), "?period=weekly").status_code == 422


def _other_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def test_every_bad_token_is_refused_with_a_401_problem(admin_client, managed):
    pem, kid, _ = _generate(admin_client)
    now = int(time.time())
    cases = {
        "no token": None,
        "not a JWT": "not-a-token",
        "wrong signature": _token(_other_pem(), kid),
        "unknown kid": _token(pem, "pk_unknown"),
        "expired": _token(pem, kid, iat=now - 1000, exp=now - 400),
        "too long": _token(pem, kid, exp=now + 3600),
        "wrong audience": _token(pem, kid, aud="someone-else"),
        "wrong issuer": _token(pem, kid, iss="globex"),
        "no exp": _token(pem, kid, exp=None),
        "HS256": jwt.encode(
            {"iss": "acme", "aud": AUDIENCE, "iat": now, "exp": now + 60},
            "a-shared-secret-that-is-long-enough-for-hs256",
            algorithm="HS256",
            headers={"kid": kid},
        ),
    }
    for name, token in cases.items():
        response = _call(token)
        assert response.status_code == 401, name
        assert response["Content-Type"] == "application/problem+json", name
        assert response["WWW-Authenticate"].startswith("Bearer"), name


def test_an_unknown_kid_and_a_wrong_signature_get_the_same_answer(
    admin_client, managed, monkeypatch
):
    from gateway import provider

    pem, kid, _ = _generate(admin_client)
    checked = []
    decode = jwt.decode

    def spy(token, key, **options):
        checked.append(key)
        return decode(token, key, **options)

    monkeypatch.setattr(provider.jwt, "decode", spy)
    answers = [
        _call(token)
        for token in (
            _token(_other_pem(), kid),  # a real kid, the wrong signature
            _token(pem, "pk_" + "0" * 16),  # an unknown kid of the right shape
            _token(pem, "pk_unknown"),  # an unknown kid of any shape
            jwt.encode({"iss": "acme", "aud": AUDIENCE}, pem, algorithm="EdDSA"),  # no kid
        )
    ]
    first = answers[0]
    assert first.status_code == 401 and first.json()["title"] == "Invalid signature"
    for answer in answers[1:]:
        assert (answer.status_code, answer.content) == (first.status_code, first.content)
        assert answer.headers == first.headers
    # Every one of them had a signature checked against some public key (the same work).
    assert len(checked) == 4 and all("PUBLIC KEY" in key for key in checked)


def test_after_the_signature_is_proven_the_refusal_says_why(admin_client, managed):
    pem, kid, _ = _generate(admin_client)
    now = int(time.time())
    for claims, title in (
        ({"iat": now - 1000, "exp": now - 400}, "Token expired"),
        ({"aud": "someone-else"}, "Wrong audience"),
        ({"iss": "globex"}, "Wrong issuer"),
        ({"exp": now + 3600}, "Token lifetime too long"),
    ):
        assert _call(_token(pem, kid, **claims)).json()["title"] == title


def test_a_key_or_a_token_in_the_provider_url_is_refused(admin_client, managed, new_key):
    pem, kid, _ = _generate(admin_client)
    token = _token(pem, kid)
    platform_key = new_key()
    for query in (
        f"?{platform_key}",
        f"?q={platform_key}",
        f"?access_token={token}",
        f"?period=daily&x={token}",
        f"?{token}",
    ):
        response = _call(_token(pem, kid), query)
        assert response.status_code == 401, query
        assert response.json()["title"] == "API key in the URL"
        assert token not in response.content.decode()
    assert _call(_token(pem, kid), "?period=daily").status_code == 200


def test_a_replayed_jti_is_refused(admin_client, managed):
    pem, kid, _ = _generate(admin_client)
    token = _token(pem, kid, jti="one-time")
    assert _call(token).status_code == 200
    replay = _call(token)
    assert replay.status_code == 401 and replay.json()["title"] == "Token replayed"


def test_revoking_stops_the_key_at_once_and_generating_replaces_it(admin_client, managed):
    pem, kid, _ = _generate(admin_client)
    assert _call(_token(pem, kid)).status_code == 200
    confirm = admin_client.get(REVOKE, headers={"HX-Request": "true"}).content.decode()
    assert "immediately disables all existing integrations" in confirm
    assert admin_client.post(REVOKE, headers={"X-CSRFToken": admin_client.token}).status_code == 302
    refused = _call(_token(pem, kid))
    assert refused.status_code == 401 and refused.json()["title"] == "Key revoked"
    new_pem, new_kid, _ = _generate(admin_client)
    old_again = _token(pem, kid)
    assert _call(old_again).status_code == 401
    assert _call(_token(new_pem, new_kid)).status_code == 200
    # Generating again replaces the active key, once confirmed for that key.
    _generate(admin_client, replaces=new_kid)
    assert _call(_token(new_pem, new_kid)).status_code == 401
    assert ProviderKey.objects.filter(revoked_at__isnull=True).count() == 1
    assert Event.objects.filter(action=Event.Action.PROVIDER_KEY_REVOKED).count() == 2


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("developer", 403), ("member", 403), ("outsider", 404)]
)
def test_only_tenant_admins_reach_the_provider_page(personas, client_for, persona, status):
    client = client_for(personas[persona])
    assert client.get(PAGE).status_code == status
    token = (
        csrf_token_for(client, reverse("apikeys:api_guide", args=["acme"]))
        if persona != "outsider"
        else ""
    )
    assert client.post(GENERATE, headers={"X-CSRFToken": token}).status_code in (
        (200,) if persona == "admin" else (403, 404)
    )


def test_the_provider_openapi_document_describes_the_answers(admin_client, managed):
    import jsonschema

    doc = Client().get("/api/provider/v1/openapi.json").json()
    pem, kid, _ = _generate(admin_client)
    for response, status in ((_call(_token(pem, kid)), "200"), (_call(None), "401")):
        spec = doc["paths"]["/usage"]["get"]["responses"][status]
        if "$ref" in spec:
            spec = doc["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
        schema = next(iter(spec["content"].values()))["schema"] | {"components": doc["components"]}
        jsonschema.Draft202012Validator(schema).validate(response.json())


@pytest.mark.parametrize("jti", ["\ud800", "a\x00b", "tab\there"])
def test_a_jti_that_is_not_printable_is_an_invalid_token_not_an_outage(admin_client, jti):
    pem, kid, _ = _generate(admin_client)
    response = _call(_token(pem, kid, jti=jti))
    assert response.status_code == 401
    assert response.json()["title"] == "Invalid token"
    assert "printable" in response.json()["detail"]


def test_revoking_in_the_dialog_announces_provider_key_changed(admin_client, managed):
    _generate(admin_client)
    headers = {"HX-Request": "true", "X-CSRFToken": admin_client.token}
    response = admin_client.post(REVOKE, headers=headers)
    assert list(json.loads(response["HX-Trigger"])) == ["providerKeyChanged", "closeModal"]
    assert "The Provider API key was revoked." in response.content.decode()
    # The card listens for it and refetches itself; a second revoke says why in the dialog.
    card = admin_client.get(PAGE, headers={"HX-Request": "true"}).content.decode()
    assert card.lstrip().startswith('<section id="provider-key"')
    assert 'hx-trigger="providerKeyChanged from:body"' in card and "No Provider API key" in card
    again = admin_client.post(REVOKE, headers=headers)
    assert "HX-Trigger" not in again
    assert "There is no active Provider API key to revoke." in again.content.decode()
