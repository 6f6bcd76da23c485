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
