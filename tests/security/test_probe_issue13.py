"""An attacker's probe of issue 13's additions: licences, renewal, Edit settings, the
Provider API's replace confirmation, events search, the Owner filter, the API's own chain."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from apikeys.models import ApiKey, ProviderKey
from tenants.models import Membership
from tests.factories import MembershipFactory, UserFactory, api_key, lift_key_limits
from tests.helpers import csrf_token_for, htmx_headers


def _m(user, tenant):
    return Membership.objects.get(user=user, tenant=tenant)


def _key(user, tenant, **fields):
    lift_key_limits(tenant)
    return api_key(_m(user, tenant), **fields)[0]


# --- Licences ---------------------------------------------------------------------------


def test_an_admin_cannot_assign_a_licence_to_another_tenants_member(
    acme, globex, admin, outsider, client_for
):
    globex.user_licenses = 5
    globex.save()
    target = MembershipFactory(tenant=globex, user=UserFactory(email="x@globex.test"))
    client = client_for(admin)
    token = csrf_token_for(client, reverse("tenants:members", args=["acme"]))
    for slug in ("acme", "globex"):
        url = reverse("tenants:member_license", args=[slug, target.pk])
        response = client.post(url, {"licensed": "1"}, headers=htmx_headers(token))
        assert response.status_code == 404
    target.refresh_from_db()
    assert not target.has_license


@pytest.mark.parametrize("who", ["developer", "member"])
def test_only_an_admin_assigns_licences(acme, personas, who, client_for):
    acme.user_licenses = 5
    acme.save()
    target = _m(personas["member"], acme)
    client = client_for(personas[who])
    token = csrf_token_for(client, reverse("tenants:home", args=["acme"]))
    url = reverse("tenants:member_license", args=["acme", target.pk])
    response = client.post(url, {"licensed": "1"}, headers=htmx_headers(token))
    assert response.status_code == 403
    target.refresh_from_db()
    assert not target.has_license


def test_assigning_a_licence_needs_the_csrf_token(acme, admin, member, client_for):
    acme.user_licenses = 5
    acme.save()
    target = _m(member, acme)
    url = reverse("tenants:member_license", args=["acme", target.pk])
    response = client_for(admin).post(url, {"licensed": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 403
    target.refresh_from_db()
    assert not target.has_license


@pytest.mark.parametrize("value", ["", "2", "-1", "yes", "1\x00", "true"])
def test_a_licence_switch_other_than_0_or_1_changes_nothing(acme, admin_client, member, value):
    acme.user_licenses = 5
    acme.save()
    target = _m(member, acme)
    url = reverse("tenants:member_license", args=["acme", target.pk])
    response = admin_client.post(url, {"licensed": value}, headers=htmx_headers(admin_client.token))
    assert response.status_code == 400
    target.refresh_from_db()
    assert not target.has_license


def test_a_licence_switch_by_get_is_refused(acme, admin_client, member):
    target = _m(member, acme)
    url = reverse("tenants:member_license", args=["acme", target.pk])
    assert admin_client.get(url + "?licensed=1").status_code == 405


# --- Edit settings ----------------------------------------------------------------------


def _edit(client, token, key, slug="acme", **data):
    url = reverse("apikeys:edit", args=[slug, key.key_id])
    form = {"name": key.name, "description": key.description, "rate_limit": key.rate_limit}
    return client.post(url, form | data, headers=htmx_headers(token))


def test_another_owners_or_tenants_key_settings_are_not_editable(
    acme, globex, admin, developer, outsider, client_for
):
    mine = _key(developer, acme)
    theirs = _key(outsider, globex)
    # The admin (not the owner) and the outsider.
    MembershipFactory  # noqa: B018
    m = _m(admin, acme)
    m.is_developer = True
    m.save()
    client = client_for(admin)
    token = csrf_token_for(client, reverse("apikeys:console", args=["acme"]))
    assert _edit(client, token, mine, rate_limit=99999).status_code in (403, 404)
    assert _edit(client, token, theirs, rate_limit=99999).status_code == 404
    assert _edit(client, token, theirs, slug="globex", rate_limit=99999).status_code == 404
    for key in (mine, theirs):
        key.refresh_from_db()
        assert key.rate_limit != 99999


@pytest.mark.parametrize(
    "value",
    ["0", "-1", "1e9", "1000000000", "1 OR 1", "", "\u0661\u0660", "1.5", "9" * 400, "0x10"],
)
def test_a_hostile_rate_limit_is_a_field_error_and_changes_nothing(
    acme, developer, client_for, value
):
    key = _key(developer, acme)
    before = key.rate_limit
    client = client_for(developer)
    token = csrf_token_for(client, reverse("apikeys:my_keys", args=["acme"]))
    response = _edit(client, token, key, rate_limit=value)
    assert response.status_code == 200
    assert b"aria-invalid" in response.content
    key.refresh_from_db()
    assert key.rate_limit == before


def test_editing_settings_needs_the_csrf_token(acme, developer, client_for):
    key = _key(developer, acme)
    client = client_for(developer)
    response = _edit(client, None, key, rate_limit=5)
    assert response.status_code == 403


# --- Renewal -----------------------------------------------------------------------------


def _expired(user, tenant):
    key = _key(user, tenant)
    ApiKey.objects.filter(pk=key.pk).update(expires_on=date.today() - timedelta(days=2))
    key.refresh_from_db()
    return key


def _renew(client, token, key, expires_on, slug="acme"):
    url = reverse("apikeys:regenerate", args=[slug, key.key_id])
    return client.post(url, {"renew": "yes", "expires_on": expires_on}, headers=htmx_headers(token))


def test_another_owners_or_tenants_expired_key_is_not_renewed(
    acme, globex, admin, developer, outsider, client_for
):
    mine = _expired(developer, acme)
    theirs = _expired(outsider, globex)
    m = _m(admin, acme)
    m.is_developer = True
    m.save()
    client = client_for(admin)
    token = csrf_token_for(client, reverse("apikeys:console", args=["acme"]))
    future = (date.today() + timedelta(days=30)).isoformat()
    assert _renew(client, token, mine, future).status_code in (403, 404)
    assert _renew(client, token, theirs, future).status_code == 404
    assert _renew(client, token, theirs, future, slug="globex").status_code == 404
    for key in (mine, theirs):
        before = key.secret_hash
        key.refresh_from_db()
        assert key.secret_hash == before


@pytest.mark.parametrize(
    "value", ["2000-01-01", "0000-01-01", "0001-01-01", "10000-01-01", "2020-02-30", "x", "\x00"]
)
def test_a_hostile_renewal_date_is_refused_and_changes_nothing(acme, developer, client_for, value):
    key = _expired(developer, acme)
    client = client_for(developer)
    token = csrf_token_for(client, reverse("apikeys:my_keys", args=["acme"]))
    response = _renew(client, token, key, value)
    assert response.status_code in (200, 400)
    before = key.secret_hash
    key.refresh_from_db()
    assert key.secret_hash == before
    assert b"kw_" not in response.content


def test_a_key_renewed_until_year_9999_still_shows_everywhere(acme, developer, client_for):
    key = _expired(developer, acme)
    client = client_for(developer)
    token = csrf_token_for(client, reverse("apikeys:my_keys", args=["acme"]))
    response = _renew(client, token, key, "9999-12-31")
    assert response.status_code in (200, 302)
    key.refresh_from_db()
    assert key.expires_on == date(9999, 12, 31)
    for url in (
        reverse("apikeys:my_keys", args=["acme"]),
        reverse("apikeys:detail", args=["acme", key.key_id]),
    ):
        assert client.get(url).status_code == 200


def test_renewal_needs_the_csrf_token(acme, developer, client_for):
    key = _expired(developer, acme)
    client = client_for(developer)
    future = (date.today() + timedelta(days=30)).isoformat()
    assert _renew(client, None, key, future).status_code == 403


# --- Provider API -------------------------------------------------------------------------


def test_a_get_or_a_stray_post_never_replaces_the_provider_key(acme, admin_client):
    url = reverse("apikeys:provider_generate", args=["acme"])
    h = htmx_headers(admin_client.token)
    assert admin_client.post(url, {}, headers=h).status_code == 200
    first = ProviderKey.objects.get(tenant=acme, revoked_at__isnull=True)
    assert admin_client.get(url).status_code == 200
    for replaces in ("", "x", first.kid + " ", first.kid.upper()):
        admin_client.post(url, {"replaces": replaces}, headers=h)
    assert ProviderKey.objects.get(tenant=acme, revoked_at__isnull=True) == first


def test_a_provider_key_is_not_replaced_with_another_tenants_kid(
    acme, globex, admin_client, outsider, client_for
):
    other = client_for(outsider)
    token = csrf_token_for(other, reverse("apikeys:provider", args=["globex"]))
    other.post(
        reverse("apikeys:provider_generate", args=["globex"]), {}, headers=htmx_headers(token)
    )
    theirs = ProviderKey.objects.get(tenant=globex)
    url = reverse("apikeys:provider_generate", args=["acme"])
    h = htmx_headers(admin_client.token)
    admin_client.post(url, {}, headers=h)
    mine = ProviderKey.objects.get(tenant=acme)
    admin_client.post(url, {"replaces": theirs.kid}, headers=h)
    assert ProviderKey.objects.get(tenant=acme, revoked_at__isnull=True) == mine
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


# --- Events search and the Owner filter ---------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["globex", "owner@globex.test", "@globex", "%", "_", "\u202e", "🔑", "a" * 5000, "\x00"],
)
def test_events_search_never_shows_another_tenants_events(
    acme, globex, admin_client, outsider, developer, query
):
    _key(outsider, globex, name="Globex secret project")
    _key(developer, acme, name="Acme key")
    url = reverse("tenants:events", args=["acme"])
    response = admin_client.get(url, {"q": query})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert all(event.tenant_id == acme.pk for event in response.context["page"].object_list)
    assert b"Globex secret" not in response.content


@pytest.mark.parametrize("query", ["globex", "owner@", "%", "_", "@", ".test", "\x00", "a" * 300])
def test_the_owner_filter_never_matches_another_tenants_members(
    acme, globex, admin_client, outsider, developer, query
):
    _key(outsider, globex, name="Globex key")
    _key(developer, acme, name="Acme key")
    url = reverse("apikeys:console", args=["acme"])
    response = admin_client.get(url, {"owner": query})
    assert response.status_code in (200, 400)
    assert b"Globex key" not in response.content
    if response.status_code == 200:
        assert all(key.tenant_id == acme.pk for key in response.context["page"].object_list)


def test_the_owner_filter_cannot_count_another_tenants_members(
    acme, globex, admin_client, developer, outsider
):
    """A member of globex who is also an ex-member... no: an acme key owned by someone who
    is no longer an acme member must not be matched through their globex membership."""
    _key(developer, acme, name="Acme key")
    url = reverse("apikeys:console", args=["acme"])
    a = admin_client.get(url, {"owner": "globex"}).content
    b = admin_client.get(url, {"owner": "zzzz-nobody"}).content
    assert a.count(b"<tr") == b.count(b"<tr")


# --- Names shown in toasts, sparklines, charts, events --------------------------------------


def test_a_key_name_with_markup_is_escaped_in_the_toast_and_tables(acme, developer, client_for):
    key = _key(developer, acme)
    client = client_for(developer)
    token = csrf_token_for(client, reverse("apikeys:my_keys", args=["acme"]))
    name = '<svg onload=alert(1)>"</title><script>x</script>'
    response = _edit(client, token, key, name=name)
    assert b"<script>x" not in response.content
    assert b"<svg onload" not in response.content
    for url in (
        reverse("apikeys:my_keys", args=["acme"]),
        reverse("apikeys:detail", args=["acme", key.key_id]),
        reverse("tenants:events", args=["acme"]) + "?q=%3Csvg",
    ):
        content = client.get(url).content
        assert b"<script>x" not in content, url
        assert b"<svg onload" not in content, url


# --- The API's own chain ------------------------------------------------------------------


def test_an_api_answer_sets_no_portal_cookie_even_with_a_session(admin_client, api):
    response = admin_client.get("/api/health")
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies
    response = admin_client.post(
        "/api/production/v1/customers", {}, content_type="application/json"
    )
    assert response.status_code == 401
    assert not response.cookies


def test_a_session_cookie_is_no_credential_for_the_api(admin_client):
    for path in ("/api/production/v1/me", "/api/system/v1/tenants", "/api/provider/v1/usage"):
        response = admin_client.get(path)
        assert response.status_code == 401, path


@pytest.mark.parametrize("host", ["evil.test", "", "a" * 300, "bad host"])
def test_a_bad_host_is_a_400_on_the_api(api, host, db):
    response = api("GET", "/api/health", HTTP_HOST=host)
    assert response.status_code == 400


def test_a_bad_host_on_the_api_still_gets_the_security_headers(client, db):
    """The portal's 400 for a bad Host carries SecurityMiddleware's headers; so does the API's
    (its Host check runs inside the API chain, not before it)."""
    portal = client.get("/accounts/sign-in/", HTTP_HOST="evil.test")
    for path in ("/api/health", "/api/production/v1/me", "/api/system/v1/tenants"):
        response = client.get(path, HTTP_HOST="evil.test")
        assert response.status_code == 400
        for header in ("X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy"):
            assert response.headers.get(header) == portal.headers.get(header) != None, header  # noqa: E711
        assert response.headers.get("X-Frame-Options") == "DENY"


def test_the_api_and_portal_give_the_same_security_headers(client, db):
    api = client.get("/api/health")
    portal = client.get("/accounts/sign-in/")
    for header in (
        "X-Content-Type-Options",
        "Referrer-Policy",
        "X-Frame-Options",
        "Cross-Origin-Opener-Policy",
        "Strict-Transport-Security",
    ):
        assert api.headers.get(header) == portal.headers.get(header), header


def test_a_malformed_charset_or_nul_is_a_400_on_the_api(api, new_key):
    secret = new_key()
    response = api.client.generic(
        "POST",
        "/api/production/v1/customers",
        b'{"name":"x"}',
        content_type="application/json; charset=bogus-charset",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code in (400, 415)
    response = api("GET", "/api/production/v1/customers%00", key=secret)
    assert response.status_code in (400, 404)


@pytest.mark.parametrize("value", ["\u0661\u0660", "\uff11\uff10", "1_0", "10.0", "+10"])
def test_a_number_in_a_bounded_field_is_ascii_digits_only(value):
    """SECURITY 27: non-ASCII digits (and Python's other spellings of an int) are refused in
    every bounded number: a key's rate limit on create and edit, the tenant's settings."""
    from apikeys.forms import ApiKeyEditForm, rate_limit_field

    assert not ApiKeyEditForm({"name": "Key", "rate_limit": value}).is_valid()
    field = rate_limit_field()
    with pytest.raises(Exception, match="whole number"):
        field.clean(value)


@pytest.mark.parametrize("value", ["10", " 10 ", "1"])
def test_a_plain_number_in_a_bounded_field_is_still_accepted(value):
    from apikeys.forms import rate_limit_field

    assert rate_limit_field().clean(value) == int(value)


def test_a_developer_whose_licence_was_taken_back_cannot_renew_an_expired_key(
    acme, admin, developer, client_for
):
    """Taking a licence back leaves working keys working, but renewing an expired key makes a
    dead key work again with a new secret: that is generating a key, which needs a licence."""
    key = _expired(developer, acme)
    from tenants import services as tenant_services

    tenant_services.member_set_license(membership=_m(developer, acme), licensed=False, actor=admin)
    client = client_for(developer)
    token = csrf_token_for(client, reverse("apikeys:my_keys", args=["acme"]))
    response = _renew(client, token, key, (date.today() + timedelta(days=30)).isoformat())
    assert response.status_code == 200
    assert b"licence" in response.content
    before = key.secret_hash
    key.refresh_from_db()
    assert key.secret_hash == before
    assert key.expires_on < date.today()


def test_replacing_the_provider_key_needs_the_csrf_token(acme, admin_client, client_for, admin):
    url = reverse("apikeys:provider_generate", args=["acme"])
    admin_client.post(url, {}, headers=htmx_headers(admin_client.token))
    active = ProviderKey.objects.get(tenant=acme, revoked_at__isnull=True)
    response = client_for(admin).post(url, {"replaces": active.kid}, headers={"HX-Request": "1"})
    assert response.status_code == 403
    assert ProviderKey.objects.get(tenant=acme, revoked_at__isnull=True) == active


def test_revoke_selected_never_reaches_another_tenants_keys(
    acme, globex, admin_client, outsider, developer
):
    theirs = _key(outsider, globex)
    mine = _key(developer, acme)
    url = reverse("apikeys:bulk_revoke", args=["acme"])
    response = admin_client.post(
        url,
        {"key": [theirs.key_id, mine.key_id], "confirm": "yes"},
        headers=htmx_headers(admin_client.token),
    )
    assert response.status_code == 200
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.revoked_at is None
    assert mine.revoked_at is not None
    # Without the token, nothing is revoked.
    other = _key(developer, acme)
    response = admin_client.post(url, {"key": [other.key_id], "confirm": "yes"})
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.revoked_at is None
