import pytest
from django.test import Client
from django.urls import reverse

from apikeys import keyformat, services
from gateway.usage import buffer
from gateway.verification import Verified, verifier
from tenants.models import Event, Membership, Tenant


@pytest.fixture
def service_key(root):
    _, secret = services.service_key_create(service_name="inventory-service", actor=root)
    return secret


def call(method, path, key=None, body=None):
    import json

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    kwargs = {"headers": headers}
    if body is not None:
        kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(Client(), method.lower())(f"/api/system/v1{path}", **kwargs)


def test_a_service_key_lists_reads_and_creates_tenants(service_key, acme, globex):
    listed = call("GET", "/tenants?per_page=1", service_key)
    assert listed.status_code == 200
    assert listed.json()["data"][0]["slug"] == "acme" and listed.json()["has_more"]
    assert call("GET", "/tenants/globex", service_key).json()["name"] == "Globex"
    created = call("POST", "/tenants", service_key, {"name": "Initech", "slug": "initech"})
    assert created.status_code == 201 and created["Location"] == "/api/system/v1/tenants/initech"
    tenant = Tenant.objects.get(slug="initech")
    assert tenant.settings.api_keys_enabled is False
    assert Event.objects.filter(action=Event.Action.TENANT_CREATED, tenant=tenant).exists()
    assert (
        call("POST", "/tenants", service_key, {"name": "X", "slug": "initech"}).status_code == 409
    )
    bad = call("POST", "/tenants", service_key, {"name": "", "slug": "Not A Slug"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"name", "slug"}
    assert call("GET", "/tenants/nope", service_key).status_code == 404


def test_tenant_keys_are_refused_on_the_system_api(developer, acme, service_key):
    membership = Membership.objects.get(user=developer)
    acme.settings.max_expiration_days = None
    acme.settings.save()
    _, tenant_key = services.api_key_create(
        membership=membership, name="k", environment="production", scopes=["usage:read"]
    )
    response = call("GET", "/tenants", tenant_key)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"] == "The API key is not valid."
    # ...and service keys on the tenant API.
    refused = Client().get(
        "/api/production/v1/me", headers={"Authorization": f"Bearer {service_key}"}
    )
    assert refused.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_revocation_holds_from_the_next_request(root, acme):
    key, secret = services.service_key_create(service_name="erp-sync", actor=root)
    assert call("GET", "/tenants", secret).status_code == 200
    services.service_key_revoke(key=key, actor=root)
    response = call("GET", "/tenants", secret)
    assert response.status_code == 401 and response.json()["title"] == "API key revoked"


@pytest.mark.django_db(transaction=True)
def test_deactivating_a_tenant_stops_its_keys_at_once(root, acme, developer):
    _, secret = services.service_key_create(service_name="erp-sync", actor=root)
    acme.settings.max_expiration_days = None
    acme.settings.save()
    _, tenant_key = services.api_key_create(
        membership=Membership.objects.get(user=developer),
        name="k",
        environment="production",
        scopes=["usage:read"],
    )
    assert isinstance(verifier.verify(tenant_key, "production"), Verified)
    response = call("PUT", "/tenants/acme/status", secret, {"active": False})
    assert response.status_code == 200 and response.json()["active"] is False
    assert not isinstance(verifier.verify(tenant_key, "production"), Verified)
    assert Event.objects.filter(action=Event.Action.TENANT_DEACTIVATED).count() == 1
    assert call("PUT", "/tenants/acme/status", secret, {"active": "no"}).status_code == 422


def test_system_calls_are_rate_limited_and_logged(service_key, acme, settings):
    settings.SERVICE_KEY_RATE_LIMIT = 2
    statuses = [call("GET", "/tenants", service_key).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    buffer.flush()
    from apikeys.models import RequestLog, ServiceApiKey

    logs = RequestLog.objects.filter(tenant__isnull=True)
    assert logs.count() == 3
    assert logs.first().key_id == keyformat.parse(service_key).key_id
    assert ServiceApiKey.objects.get().last_used_at is not None


def test_the_system_openapi_document_matches_its_answers(service_key, acme):
    import jsonschema

    doc = Client().get("/api/system/v1/openapi.json").json()
    assert set(doc["paths"]) == {
        "/tenants",
        "/tenants/{slug}",
        "/tenants/{slug}/status",
        "/keys/revoke-found",
    }

    def check(response, method, template):
        spec = doc["paths"][template][method]["responses"][str(response.status_code)]
        if "$ref" in spec:
            spec = doc["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
        schema = next(iter(spec["content"].values()))["schema"] | {"components": doc["components"]}
        jsonschema.Draft202012Validator(schema).validate(response.json())

    check(call("GET", "/tenants", service_key), "get", "/tenants")
    check(call("POST", "/tenants", service_key, {"name": "A", "slug": "a"}), "post", "/tenants")
    check(call("POST", "/tenants", service_key, {"slug": 1}), "post", "/tenants")
    check(call("GET", "/tenants/acme", service_key), "get", "/tenants/{slug}")
    check(call("GET", "/tenants/zzz", service_key), "get", "/tenants/{slug}")
    check(
        call("PUT", "/tenants/acme/status", service_key, {"active": True}),
        "put",
        "/tenants/{slug}/status",
    )
    check(call("GET", "/tenants"), "get", "/tenants")
    revoke = "/keys/revoke-found"
    check(call("POST", revoke, service_key, {"keys": [{"token": "x"}]}), "post", revoke)
    check(call("POST", revoke, service_key, {"keys": []}), "post", revoke)


def test_the_admin_host_serves_only_the_admin_and_the_portal_host_no_admin(
    settings, admin, client_for, root
):
    settings.SYSTEM_ADMIN_HOST = "system.keyward.test"
    settings.ALLOWED_HOSTS = ["portal.keyward.test", "system.keyward.test"]
    portal = client_for(admin)
    system = client_for(root)
    assert portal.get("/t/acme/", HTTP_HOST="portal.keyward.test").status_code == 200
    assert portal.get("/system/", HTTP_HOST="portal.keyward.test").status_code == 404
    assert system.get("/system/", HTTP_HOST="system.keyward.test").status_code == 200
    assert system.get("/t/acme/", HTTP_HOST="system.keyward.test").status_code == 404
    assert reverse("admin:index") == "/system/"


def test_a_system_admin_signs_in_on_the_admin_host_itself(settings, root, client_for):
    """The admin site's sign-in is the portal's (password, then the second factor): the
    admin host serves those account pages too, or nobody could sign in there."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import PASSWORD
    from tests.helpers import TOTP_KEY_HEX, totp_code

    settings.SYSTEM_ADMIN_HOST = "system.keyward.test"
    settings.ALLOWED_HOSTS = ["portal.keyward.test", "system.keyward.test"]
    TOTPDevice.objects.create(user=root, name="Phone", key=TOTP_KEY_HEX, confirmed=True)
    client = client_for(None)
    host = {"HTTP_HOST": "system.keyward.test"}
    page = client.get("/system/", follow=True, **host)
    assert page.status_code == 200 and page.redirect_chain[-1][0].startswith("/accounts/sign-in/")
    token = client.cookies["csrftoken"].value
    step = client.post(
        "/accounts/sign-in/",
        {"username": root.email, "password": PASSWORD, "next": "/system/"},
        headers={"X-CSRFToken": token},
        follow=True,
        **host,
    )
    assert step.status_code == 200 and "Confirm it's you" in step.content.decode()
    done = client.post(
        step.redirect_chain[-1][0],
        {"code": totp_code()},
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
        follow=True,
        **host,
    )
    assert done.redirect_chain[-1][0] == "/system/" and done.status_code == 200
    assert "Keyward system administration" in done.content.decode()
    # Still nothing of the portal on the admin host, and no admin on the portal's.
    assert client.get("/t/acme/", **host).status_code == 404
    assert client.get("/system/", HTTP_HOST="portal.keyward.test").status_code == 404


def test_a_service_key_in_the_url_is_refused_as_a_parameter_name_or_value(service_key, acme):
    for query in (f"?{service_key}", f"?{service_key}=1", f"?q={service_key}"):
        response = call("GET", "/tenants" + query, service_key)
        assert response.status_code == 401, query
        assert response.json()["title"] == "API key in the URL"
    assert call("GET", "/tenants", service_key).status_code == 200
