from django.core.management import call_command

from accounts.models import User
from tenants.models import Membership, Tenant


def test_seed_demo_makes_the_demo_tenants_and_users_and_can_run_again(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert Tenant.objects.get(slug="acme").settings.api_keys_enabled is True
    assert Tenant.objects.get(slug="globex").settings.api_keys_enabled is False
    assert User.objects.count() == 5
    assert Membership.objects.count() == 4
    owner = Membership.objects.get(user__email="owner@globex.test")
    assert owner.is_admin and owner.is_developer
    assert not Membership.objects.get(user__email="member@acme.test").roles
    root = User.objects.get(email="root@keyward.test")
    assert root.is_superuser and root.check_password("keyward-demo")
    assert "admin@acme.test" in capsys.readouterr().out
    from apikeys.models import ApiKey

    statuses = {key.status.value for key in ApiKey.objects.filter(tenant__slug="acme")}
    assert statuses == {"active", "inactive", "expired", "revoked"}
    assert any(key.is_expiring_soon for key in ApiKey.objects.all())
    assert ApiKey.objects.count() == 7  # one in every state, and one limited to a customer


def test_the_demo_root_signs_in_with_the_printed_authenticator_key(db, capsys, client_for):
    import base64
    import re

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tenants.models import Event
    from tests.helpers import csrf_token_for, totp_code

    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    printed = re.search(r"add the key ((?:[A-Z2-7]{4} ){7}[A-Z2-7]{4})", out).group(1)
    key_hex = base64.b32decode(printed.replace(" ", "")).hex()
    root = User.objects.get(email="root@keyward.test")
    assert TOTPDevice.objects.get(user=root, confirmed=True).key == key_hex
    assert Event.objects.filter(action=Event.Action.TOTP_ADDED).count() == 1  # once
    call_command("demo_totp_code")
    assert capsys.readouterr().out.strip() == totp_code(key_hex)

    client = client_for(None)
    token = csrf_token_for(client, "/accounts/sign-in/")
    client.post(
        "/accounts/sign-in/",
        {"username": "root@keyward.test", "password": "keyward-demo", "next": "/system/"},
        headers={"X-CSRFToken": token},
    )
    token = csrf_token_for(client, "/accounts/sign-in/second-factor/")
    response = client.post(
        "/accounts/sign-in/second-factor/",
        {"code": totp_code(key_hex)},
        headers={"X-CSRFToken": token},
    )
    assert response["Location"] == "/system/"
    assert client.get("/system/").status_code == 200
