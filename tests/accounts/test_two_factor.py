"""Two-factor sign-in: the second step, the set-up pages, recovery, and the policies."""

import re
import time

import pytest
import time_machine
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services, two_factor
from accounts.models import Passkey
from tenants.models import Event, TenantSettings
from tests.factories import PASSWORD, UserFactory
from tests.helpers import (
    TOTP_KEY_HEX,
    csrf_token_for,
    htmx_headers,
    passed_second_factor,
    totp_code,
)

LOGIN = reverse("login")
SECOND = reverse("second_factor")
SETUP = reverse("two_factor")
APP = reverse("totp_setup")
PROFILE_PAGE = "/t/acme/profile/"


def _with_app(user, key_hex=TOTP_KEY_HEX):
    return services.totp_install(user=user, key_hex=key_hex, actor=None, via="test")


def _password(client, email, password=PASSWORD, ip="10.0.0.1"):
    token = csrf_token_for(client, LOGIN)
    return client.post(
        LOGIN,
        {"username": email, "password": password, "next": "/t/acme/keys/"},
        headers={"X-CSRFToken": token},
        REMOTE_ADDR=ip,
    )


def _code(client, code, ip="10.0.0.1"):
    token = csrf_token_for(client, SECOND)
    return client.post(SECOND, {"code": code}, headers={"X-CSRFToken": token}, REMOTE_ADDR=ip)


def _signed_in(client) -> bool:
    return client.get(reverse("tenants:home", args=["acme"])).status_code == 200


def _previous_step_code(key_hex=TOTP_KEY_HEX) -> str:
    return totp_code(key_hex, at=time.time() - 30)


# The second step -------------------------------------------------------------------------


def test_a_user_without_a_second_factor_signs_in_with_the_password_alone(admin, client_for):
    client = client_for(None)
    assert _password(client, "admin@acme.test")["Location"] == "/t/acme/keys/"
    assert _signed_in(client)


def test_a_user_with_an_app_is_not_signed_in_until_the_code_is_right(admin, client_for):
    _with_app(admin)
    client = client_for(None)
    response = _password(client, "admin@acme.test")
    assert response["Location"] == SECOND
    assert not _signed_in(client)  # the password alone signed nobody in
    page = client.get(SECOND)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert "Code from your authenticator app" in page.content.decode()
    refused = _code(client, "000000" if totp_code() != "000000" else "111111")
    assert refused.status_code == 400
    assert "That code is not correct." in refused.content.decode()
    assert not _signed_in(client)
    done = _code(client, totp_code())
    assert done.status_code == 302
    assert done["Location"] == "/t/acme/keys/"  # where the sign-in was going
    assert _signed_in(client)
    assert client.session["otp_device_id"] == TOTPDevice.objects.get(user=admin).persistent_id


def test_a_totp_code_cannot_be_used_twice(admin, client_for):
    _with_app(admin)
    code = totp_code()
    first = client_for(None)
    _password(first, "admin@acme.test")
    assert _code(first, code).status_code == 302
    second = client_for(None)
    _password(second, "admin@acme.test", ip="10.0.0.2")
    assert _code(second, code, ip="10.0.0.2").status_code == 400
    assert not _signed_in(second)
    # Nor an earlier step's code, once a later one was used.
    third = client_for(None)
    _password(third, "admin@acme.test", ip="10.0.0.3")
    assert _code(third, _previous_step_code(), ip="10.0.0.3").status_code == 400


def test_another_users_code_does_not_sign_in(admin, developer, client_for):
    _with_app(admin)
    _with_app(developer, key_hex="aa" * 20)
    client = client_for(None)
    _password(client, "admin@acme.test")
    assert _code(client, totp_code("aa" * 20)).status_code == 400


def test_wrong_codes_lock_the_account_out_like_wrong_passwords(admin, client_for, settings):
    _with_app(admin)
    for n in range(settings.AXES_FAILURE_LIMIT):
        client = client_for(None)
        _password(client, "admin@acme.test", ip=f"10.4.0.{n}")
        last = _code(client, "999999" if totp_code() != "999999" else "888888", ip=f"10.4.0.{n}")
    assert last.status_code == 429
    assert "Too many failed sign-in attempts" in last.content.decode()
    # The right password and the right code, from a fresh address: still locked.
    client = client_for(None)
    assert _password(client, "admin@acme.test", ip="10.4.1.1").status_code == 429
    assert not _signed_in(client)


def test_a_session_halfway_in_is_refused_a_code_once_locked(admin, client_for, settings):
    _with_app(admin)
    client = client_for(None)
    _password(client, "admin@acme.test", ip="10.5.0.1")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _code(client, "12345x", ip="10.5.0.1").status_code == 400
    assert _code(client, "123450", ip="10.5.0.1").status_code == 429
    assert client.get(SECOND, REMOTE_ADDR="10.5.0.1").status_code == 429
    assert not _signed_in(client)


def test_the_second_step_expires(admin, client_for, settings):
    _with_app(admin)
    client = client_for(None)
    _password(client, "admin@acme.test")
    later = time.time() + settings.SECOND_FACTOR_TIMEOUT.total_seconds() + 1
    with time_machine.travel(later, tick=False):
        response = client.get(SECOND)
        assert response.status_code == 302
        assert response["Location"] == LOGIN


def test_the_second_step_alone_is_no_way_in(admin, client_for):
    _with_app(admin)
    assert client_for(None).get(SECOND)["Location"] == LOGIN


def test_a_recovery_code_signs_in_once(admin, client_for):
    _with_app(admin)
    codes = services.recovery_codes_regenerate(user=admin)
    assert len(codes) == 10 == len(set(codes))
    client = client_for(None)
    _password(client, "admin@acme.test")
    assert _code(client, codes[3].upper()).status_code == 302  # case and dash do not matter
    assert two_factor.recovery_codes_left(admin) == 9
    again = client_for(None)
    _password(again, "admin@acme.test", ip="10.0.0.9")
    assert _code(again, codes[3], ip="10.0.0.9").status_code == 400


def test_recovery_codes_are_stored_as_keyed_hashes_only(admin):
    _with_app(admin)
    codes = services.recovery_codes_regenerate(user=admin)
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert len(stored) == 10
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
    assert two_factor.recovery_code_digest(codes[0]) in stored


def test_the_step_up_helpers_check_codes(admin, developer):
    assert not two_factor.user_has_second_factor(admin)
    _with_app(admin)
    codes = services.recovery_codes_regenerate(user=admin)
    assert two_factor.user_has_second_factor(admin)
    assert not two_factor.user_has_second_factor(developer)
    assert two_factor.verify_second_factor_code(admin, totp_code())
    assert not two_factor.verify_second_factor_code(admin, totp_code())  # used up
    assert two_factor.verify_second_factor_code(admin, codes[0])
    assert not two_factor.verify_second_factor_code(developer, codes[1])
    for bad in ["", " ", "1" * 100, "١٢٣٤٥٦", "abc\x00de", None]:
        assert not two_factor.verify_second_factor_code(admin, bad)


# Setting up and removing ------------------------------------------------------------------


def _manual_key(page: str) -> str:
    found = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)</textarea>', page)
    assert found, "the manual key is on the page"
    import base64

    text = found.group(1).replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8)).hex()


def test_setting_up_an_app_shows_a_qr_code_and_the_key_then_ten_recovery_codes(admin, client_for):
    client = client_for(admin)
    page = client.get(APP)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    key_hex = _manual_key(html)
    assert client.get(APP).content.decode().count(html.split('id="totp-secret"')[1][:80]) == 1
    assert not TOTPDevice.objects.exists()  # nothing stored before the code is confirmed
    token = str(page.context["csrf_token"])
    wrong = client.post(APP, {"code": "12345"}, headers={"X-CSRFToken": token})
    assert wrong.status_code == 400
    assert "That code is not correct." in wrong.content.decode()
    assert not TOTPDevice.objects.exists()
    done = client.post(APP, {"code": totp_code(key_hex)}, headers={"X-CSRFToken": token})
    assert done.status_code == 200
    assert done["Cache-Control"] == "no-store"
    codes = done.context["codes"]
    assert len(codes) == 10
    body = done.content.decode()
    assert all(code in body for code in codes)
    assert "I've saved these recovery codes" in body
    assert 'download="keyward-recovery-codes.txt"' in body
    device = TOTPDevice.objects.get(user=admin)
    assert device.confirmed and device.key == key_hex
    assert client.session["otp_device_id"] == device.persistent_id
    events = Event.objects.filter(target_type="user", target_id=str(admin.pk))
    assert set(events.values_list("action", flat=True)) == {
        Event.Action.TOTP_ADDED,
        Event.Action.RECOVERY_CODES_GENERATED,
    }
    for event in events:
        assert event.tenant is None and event.actor == admin
        assert key_hex not in str(event.changes) and codes[0] not in str(event.changes)
    # Shown once: the overview tells how many are left, never the codes.
    overview = client.get(SETUP).content.decode()
    assert "10 of 10 single-use codes left" in overview
    assert codes[0] not in overview


def test_the_set_up_key_stays_the_same_until_confirmed(admin, client_for):
    client = client_for(admin)
    first = _manual_key(client.get(APP).content.decode())
    assert _manual_key(client.get(APP).content.decode()) == first
    assert _manual_key(client_for(admin).get(APP).content.decode()) != first  # per session


def test_removing_the_app_records_it_and_takes_the_recovery_codes_with_it(admin, client_for):
    _with_app(admin)
    services.recovery_codes_regenerate(user=admin)
    client = client_for(admin)
    url = reverse("totp_remove")
    token = csrf_token_for(client, url)
    assert client.post(url, headers={"X-CSRFToken": token})["Location"] == SETUP
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert not StaticDevice.objects.filter(user=admin).exists()
    event = Event.objects.get(action=Event.Action.TOTP_REMOVED)
    assert event.changes == {"recovery_codes_removed": True}
    # With nothing left, the password alone signs in again.
    fresh = client_for(None)
    assert _password(fresh, "admin@acme.test")["Location"] == "/t/acme/keys/"


def test_new_recovery_codes_replace_the_old_ones(admin, client_for):
    _with_app(admin)
    old = services.recovery_codes_regenerate(user=admin)
    client = client_for(admin)
    url = reverse("recovery_codes")
    token = csrf_token_for(client, url)
    response = client.post(url, headers={"X-CSRFToken": token})
    new = response.context["codes"]
    assert response["Cache-Control"] == "no-store"
    assert not two_factor.verify_second_factor_code(admin, old[0])
    assert two_factor.verify_second_factor_code(admin, new[0])


def test_recovery_codes_need_a_factor_first(admin, client_for):
    client = client_for(admin)
    assert client.get(reverse("recovery_codes"))["Location"] == SETUP
    assert not StaticDevice.objects.exists()


def test_a_passkey_of_another_user_cannot_be_removed(admin, developer, client_for):
    passkey = Passkey.objects.create(
        user=developer, name="Phone", credential_id=b"\x01" * 16, public_key=b"pk"
    )
    client = client_for(admin)
    url = reverse("passkey_remove", args=[passkey.pk])
    assert client.get(url).status_code == 404
    token = csrf_token_for(client, SETUP)
    assert client.post(url, headers={"X-CSRFToken": token}).status_code == 404
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_removing_ones_own_passkey_records_it(admin, client_for):
    passkey = Passkey.objects.create(
        user=admin, name="Phone", credential_id=b"\x02" * 16, public_key=b"pk"
    )
    client = client_for(admin)
    url = reverse("passkey_remove", args=[passkey.pk])
    token = csrf_token_for(client, url)
    assert client.post(url, headers={"X-CSRFToken": token})["Location"] == SETUP
    event = Event.objects.get(action=Event.Action.PASSKEY_REMOVED)
    assert event.changes["passkey"] == "Phone" and event.tenant is None


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"name": "x"}', b'{"name": "", "credential": {}}', b"{" * 5000],
)
def test_a_bad_passkey_registration_is_a_clear_400_that_stores_nothing(admin, client_for, body):
    client = client_for(admin)
    token = csrf_token_for(client, SETUP)
    headers = {"X-CSRFToken": token}
    options = client.post(reverse("passkey_register_options"), headers=headers)
    assert options.status_code == 200 and options.json()["rp"]["id"] == "testserver"
    response = client.post(
        reverse("passkey_register"), body, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Passkey.objects.exists() and not Event.objects.exists()


def test_a_passkey_answer_without_a_challenge_is_refused_and_counted(admin, client_for):
    Passkey.objects.create(user=admin, name="Phone", credential_id=b"\x03" * 16, public_key=b"p")
    client = client_for(None)
    _password(client, "admin@acme.test")
    token = csrf_token_for(client, SECOND)
    response = client.post(
        reverse("second_factor_passkey"),
        b'{"id": "AwMD", "rawId": "AwMD", "type": "public-key", "response": {}}',
        content_type="application/json",
        headers={"X-CSRFToken": token},
        REMOTE_ADDR="10.0.0.1",
    )
    assert response.status_code == 400
    assert not _signed_in(client)
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username="admin@acme.test").failures_since_start == 1


# Lost-factor recovery ----------------------------------------------------------------------


def test_a_system_admin_resets_a_users_second_factors(admin, root, client_for):
    _with_app(admin)
    services.recovery_codes_regenerate(user=admin)
    Passkey.objects.create(user=admin, name="Phone", credential_id=b"\x04" * 16, public_key=b"p")
    client = client_for(root)
    url = reverse("admin:accounts_user_changelist")
    token = csrf_token_for(client, url)
    response = client.post(
        url,
        {"action": "reset_second_factors", "_selected_action": [admin.pk], "index": "0"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert not two_factor.user_has_second_factor(admin)
    assert not StaticDevice.objects.filter(user=admin).exists()
    event = Event.objects.get(action=Event.Action.SECOND_FACTORS_RESET)
    assert event.actor == root and event.target_name == "admin@acme.test"
    assert event.changes == {"authenticator_apps": 1, "passkeys": 1, "recovery_codes": True}
    change = client.get(reverse("admin:accounts_user_change", args=[admin.pk]))
    assert "Second factors" in change.content.decode()


def test_only_a_system_admin_resets_second_factors(admin, developer):
    _with_app(admin)
    with pytest.raises(PermissionError):
        services.reset_second_factors(user=admin, actor=developer)
    assert two_factor.user_has_second_factor(admin)


# Policies ------------------------------------------------------------------------------------


def test_a_superuser_without_a_factor_is_led_to_set_one_up(client_for, db):
    from django.test import Client

    root = UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(root)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"] == f"{SETUP}?required=system"
    assert client.get(follow["Location"]).status_code == 200


def test_a_superuser_signs_in_to_the_system_site_with_the_second_factor(client_for, db):
    UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    root = UserFactory._meta.model.objects.get(email="root@keyward.test")
    _with_app(root)
    client = client_for(None)
    token = csrf_token_for(client, LOGIN)
    client.post(
        LOGIN,
        {"username": "root@keyward.test", "password": PASSWORD, "next": "/system/"},
        headers={"X-CSRFToken": token},
    )
    assert client.get("/system/").status_code == 302  # not yet
    assert _code(client, totp_code())["Location"] == "/system/"
    assert client.get("/system/").status_code == 200


def test_a_superuser_signed_in_without_the_second_step_is_sent_to_it(db):
    from django.test import Client

    root = UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    _with_app(root)
    client = Client(enforce_csrf_checks=True)
    client.force_login(root)
    login = client.get(reverse("admin:login") + "?next=/system/tenants/")
    assert login["Location"] == SECOND + "?next=%2Fsystem%2Ftenants%2F"
    assert client.get(login["Location"]).status_code == 200
    assert _code(client, totp_code())["Location"] == "/system/tenants/"
    assert client.get("/system/tenants/").status_code == 200


def _require(acme, *, admins=False, developers=False):
    TenantSettings.objects.filter(tenant=acme).update(
        require_2fa_admins=admins, require_2fa_developers=developers
    )


def test_a_tenant_that_requires_two_factor_sends_admins_without_it_to_set_it_up(
    acme, admin, developer, client_for
):
    _require(acme, admins=True)
    client = client_for(admin)
    for url in ["/t/acme/", "/t/acme/keys/", "/t/acme/members/", "/t/acme/settings/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{SETUP}?required=acme"
    htmx = client.get("/t/acme/keys/", headers=htmx_headers())
    assert htmx["HX-Redirect"] == f"{SETUP}?required=acme"
    # The profile, the set-up and signing out stay reachable.
    assert client.get("/t/acme/profile/").status_code == 200
    page = client.get(f"{SETUP}?required=acme")
    assert "Your tenant requires two-factor sign-in for your role." in page.content.decode()
    # Developers are not covered by an admins-only policy.
    assert client_for(developer).get("/t/acme/").status_code == 200
    # With a factor that this session passed, the admin goes on as before.
    _with_app(admin)
    passed_second_factor(client, admin)
    assert client.get("/t/acme/keys/").status_code == 200


def test_a_session_that_has_not_passed_the_members_factor_is_sent_to_the_second_step(
    acme, admin, client_for
):
    """Signed in with the password before the factor was set up elsewhere: the tenant's
    policy is met by the session passing the factor, not by the factor existing."""
    _require(acme, admins=True)
    client = client_for(admin)
    _with_app(admin)
    response = client.get("/t/acme/keys/?q=x")
    assert response["Location"] == f"{SECOND}?next=%2Ft%2Facme%2Fkeys%2F%3Fq%3Dx"
    htmx = client.get("/t/acme/keys/", headers=htmx_headers())
    assert htmx["HX-Redirect"].startswith(f"{SECOND}?next=")
    assert _code(client, totp_code()).status_code == 302
    assert client.get("/t/acme/keys/").status_code == 200


def test_a_session_that_has_not_passed_the_factor_cannot_change_the_factors(
    admin, client_for, developer
):
    """A session signed in with the password alone, before a factor was set up in another
    one, cannot replace, remove or add to it: it is sent to the second step first."""
    client = client_for(admin)
    token = csrf_token_for(client, PROFILE_PAGE)
    _with_app(admin)
    services.recovery_codes_regenerate(user=admin)
    headers = {"X-CSRFToken": token}
    second_step = f"{SECOND}?next=%2Faccounts%2Ftwo-factor%2F"
    for url in (reverse("totp_setup"), reverse("totp_remove"), reverse("recovery_codes")):
        assert client.get(url)["Location"] == second_step, url
        assert client.post(url, {"code": totp_code()}, headers=headers)["Location"] == second_step
    for url in (reverse("passkey_register_options"), reverse("passkey_register")):
        refused = client.post(url, "{}", content_type="application/json", headers=headers)
        assert refused.status_code == 403 and "second factor" in refused.json()["error"]
    device = TOTPDevice.objects.get(user=admin)
    assert device.key == TOTP_KEY_HEX and device.confirmed
    assert two_factor.recovery_codes_left(admin) == 10
    assert not Passkey.objects.filter(user=admin).exists()


def test_setting_up_a_first_factor_signs_out_the_password_only_sessions(
    admin, client_for, django_capture_on_commit_callbacks
):
    laptop, phone = client_for(admin), client_for(admin)
    assert phone.get(PROFILE_PAGE).status_code == 200
    token = csrf_token_for(laptop, reverse("totp_setup"))
    key_hex = laptop.session["totp_setup_key"]
    with django_capture_on_commit_callbacks(execute=True):
        done = laptop.post(
            reverse("totp_setup"), {"code": totp_code(key_hex)}, headers={"X-CSRFToken": token}
        )
    assert "Your recovery codes" in done.content.decode()
    assert laptop.get(PROFILE_PAGE).status_code == 200
    assert phone.get(PROFILE_PAGE).status_code == 302  # to the sign-in page
    # A second factor replaced later leaves the sessions that passed the first one alone.
    again = client_for(admin)
    token = csrf_token_for(laptop, reverse("totp_setup"))
    key_hex = laptop.session["totp_setup_key"]
    with_later_step = totp_code(key_hex, at=time.time() + 30)
    laptop.post(reverse("totp_setup"), {"code": with_later_step}, headers={"X-CSRFToken": token})
    assert again.get(PROFILE_PAGE).status_code == 200


def test_the_developer_policy_covers_developers_only(acme, admin, developer, member, client_for):
    _require(acme, developers=True)
    assert client_for(developer).get("/t/acme/").status_code == 302
    assert client_for(admin).get("/t/acme/").status_code == 200
    assert client_for(member).get("/t/acme/profile/").status_code == 200


def test_the_policy_of_one_tenant_does_not_reach_another(acme, outsider, client_for):
    _require(acme, admins=True, developers=True)
    assert client_for(outsider).get("/t/globex/").status_code == 200


def test_tenant_admins_set_the_policy_on_the_settings_page(acme, admin_client):
    url = reverse("apikeys:settings", args=["acme"])
    page = admin_client.get(url).content.decode()
    assert "Require two-factor for admins" in page and "Require two-factor for developers" in page
    policy = TenantSettings.objects.get(tenant=acme)
    response = admin_client.post(
        url,
        {
            "api_keys_enabled": "on",
            "max_expiration_days": policy.max_expiration_days,
            "max_keys_per_user": policy.max_keys_per_user,
            "default_rate_limit": policy.default_rate_limit,
            "require_2fa_developers": "on",
        },
        headers={"X-CSRFToken": admin_client.token},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.require_2fa_developers and not policy.require_2fa_admins
    event = Event.objects.filter(action=Event.Action.SETTINGS_CHANGED).latest("id")
    assert event.changes["require_2fa_developers"] == {"before": False, "after": True}


def test_refused_passkeys_lock_the_account_out_too(admin, client_for, settings):
    Passkey.objects.create(user=admin, name="Phone", credential_id=b"\x05" * 16, public_key=b"p")
    client = client_for(None)
    _password(client, "admin@acme.test", ip="10.6.0.1")
    token = csrf_token_for(client, SECOND)
    answers = [
        client.post(
            reverse("second_factor_passkey"),
            b"{}",
            content_type="application/json",
            headers={"X-CSRFToken": token},
            REMOTE_ADDR="10.6.0.1",
        )
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [a.status_code for a in answers] == [400] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert answers[-1].json() == {"error": "Too many failed sign-in attempts."}
    options = client.post(
        reverse("second_factor_passkey_options"),
        headers={"X-CSRFToken": token},
        REMOTE_ADDR="10.6.0.1",
    )
    assert options.status_code == 429
    assert not _signed_in(client)


def test_the_system_admin_site_sets_the_tenant_policy_too(acme, root, client_for):
    page = client_for(root).get(reverse("admin:tenants_tenant_change", args=[acme.pk]))
    html = page.content.decode()
    assert "Require two-factor for admins" in html and "Require two-factor for developers" in html


def test_the_admin_site_shows_no_ones_authenticator_key(root, client_for, admin):
    """django-otp's own device pages are not on the system admin site: they would show a
    user's TOTP key and change factors with no event; the user's page resets them instead."""
    _with_app(admin)
    services.recovery_codes_regenerate(user=admin)
    client = client_for(root)
    for path in ("otp_totp/totpdevice/", "otp_static/staticdevice/"):
        assert client.get(f"/system/{path}").status_code == 404, path
    device = TOTPDevice.objects.get(user=admin)
    assert client.get(f"/system/otp_totp/totpdevice/{device.pk}/change/").status_code == 404
    index = client.get("/system/").content.decode()
    assert "otp_totp" not in index and "TOTP devices" not in index


def test_a_wrong_second_step_code_is_not_kept_by_axes(admin, client_for):
    from axes.models import AccessAttempt

    _with_app(admin)
    client = client_for(None)
    _password(client, "admin@acme.test")
    _code(client, "abcde-fghjk")
    attempt = AccessAttempt.objects.get(username="admin@acme.test")
    assert "abcde-fghjk" not in attempt.post_data and "********" in attempt.post_data


def test_passkeys_on_an_ip_address_say_to_open_the_portal_by_name(admin, client_for, settings):
    """Browsers refuse a passkey for an IP address with a cryptic error; `make run` serves
    at 127.0.0.1, so the portal says where passkeys work instead."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    client = client_for(admin)
    token = csrf_token_for(client, SETUP)
    refused = client.post(
        reverse("passkey_register_options"),
        headers={"X-CSRFToken": token},
        HTTP_HOST="127.0.0.1:8000",
        SERVER_PORT="8000",
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == (
        "Passkeys need the portal's domain name, not an IP address: open it at "
        "http://localhost:8000/ or at its domain name."
    )
    named = client.post(reverse("passkey_register_options"), headers={"X-CSRFToken": token})
    assert named.status_code == 200 and named.json()["rp"]["id"] == "testserver"


def test_signing_in_to_ones_own_account_does_not_clear_the_guesses_at_another(
    admin, developer, client_for, settings
):
    """Axes' own reset on success cleared every failure from the address: an attacker who
    knows a victim's password could guess at their second factor forever, signing in to an
    account of their own between guesses. A sign-in clears its own account's failures only."""
    _with_app(admin)
    attacker = client_for(None)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _password(attacker, "admin@acme.test", ip="10.9.0.1")
        assert _code(attacker, "000000", ip="10.9.0.1").status_code == 400
    own = client_for(None)
    assert _password(own, "dev@acme.test", ip="10.9.0.1").status_code == 302
    assert _signed_in(own)
    _password(attacker, "admin@acme.test", ip="10.9.0.1")
    assert _code(attacker, "000000", ip="10.9.0.1").status_code in (403, 429)
    # Locked out: the second step is not even offered now, whatever the code.
    assert attacker.get(SECOND).status_code == 429
    assert not _signed_in(attacker)


def test_a_sign_in_clears_its_own_accounts_failures(admin, client_for, settings):
    from axes.models import AccessAttempt

    client = client_for(None)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _password(client, "admin@acme.test", password="wrong", ip="10.9.0.2")
    assert AccessAttempt.objects.filter(username="admin@acme.test").exists()
    assert _password(client, "admin@acme.test", ip="10.9.0.2").status_code == 302
    assert not AccessAttempt.objects.filter(username="admin@acme.test").exists()


@pytest.mark.parametrize("response", [None, "x", {}, {"clientDataJSON": 5}])
def test_a_malformed_passkey_registration_is_a_400_never_a_500(admin, client_for, response):
    client = client_for(admin)
    token = csrf_token_for(client, SETUP)
    headers = {"X-CSRFToken": token}
    client.post(reverse("passkey_register_options"), headers=headers)
    credential = {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": response}
    refused = client.post(
        reverse("passkey_register"),
        {"name": "Phone", "credential": credential},
        content_type="application/json",
        headers=headers,
    )
    assert refused.status_code == 400 and "error" in refused.json()
    assert not Passkey.objects.exists()


def test_a_first_passkey_signs_out_the_other_sessions_too(
    admin, client_for, django_capture_on_commit_callbacks
):
    laptop, phone = client_for(admin), client_for(admin)
    assert phone.get(PROFILE_PAGE).status_code == 200
    new = two_factor.NewPasskey(
        credential_id=b"\x09" * 16, public_key=b"p", sign_count=0, transports=[]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.passkey_add(
            user=admin, new=new, name="Phone", session_key=laptop.session.session_key
        )
    assert laptop.get(PROFILE_PAGE).status_code == 200
    assert phone.get(PROFILE_PAGE).status_code == 302  # to the sign-in page
