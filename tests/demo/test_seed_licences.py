import io

from django.core.management import call_command

from tenants.models import Event, Membership, Tenant


def test_the_demo_tenants_have_licences_and_every_developer_holds_one(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert Tenant.objects.get(slug="acme").user_licenses == 5
    assert Tenant.objects.get(slug="globex").user_licenses == 2
    licensed = Membership.objects.filter(has_license=True).values_list("user__email", flat=True)
    assert sorted(licensed) == ["dev@acme.test", "owner@globex.test"]
    # Run again, nothing changes: one assignment event per developer.
    assert Event.objects.filter(action=Event.Action.LICENSE_ASSIGNED).count() == 2
