from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apikeys import keyformat, services
from apikeys.models import ApiKey, Status, today
from tenants.models import Event, Membership
from tenants.services import tenant_settings_update


def _policy(tenant, **values):
    for field, value in values.items():
        setattr(tenant.settings, field, value)
    tenant.settings.save()


def test_create_stores_only_a_hash_and_records_an_event(make_key, developer, acme):
    key, secret = make_key(developer, name="Main Website Integration", scopes=["usage:read"])
    assert keyformat.parse(secret).key_id == key.key_id
    assert secret.startswith("kw_live_")
    assert key.secret_hash == keyformat.hash_key(secret)
    assert secret not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert key.rate_limit == acme.settings.default_rate_limit
    assert key.status == Status.ACTIVE
    event = Event.objects.get(action=Event.Action.KEY_CREATED)
    assert (event.target_id, event.target_name, event.actor) == (
        key.key_id,
        "Main Website Integration",
        developer,
    )
    assert secret not in str(event.changes)
    assert event.changes["permissions"] == ["usage:read"]


def test_each_environment_gets_its_own_prefix(make_key, developer):
    assert make_key(developer, environment="staging")[1].startswith("kw_stg_")
    assert make_key(developer, environment="development")[1].startswith("kw_dev_")


def test_only_developers_create_keys(make_key, admin, member):
    for user in (admin, member):
        with pytest.raises(PermissionDenied):
            make_key(user)
    assert not ApiKey.objects.exists()


def test_no_key_is_made_while_api_keys_are_disabled(make_key, developer, acme):
    _policy(acme, api_keys_enabled=False)
    with pytest.raises(ValidationError, match="disabled"):
        make_key(developer)
    assert not ApiKey.objects.exists() and not Event.objects.exists()


def test_the_expiry_must_be_in_the_future_and_within_the_tenant_maximum(dev_membership, acme):
    _policy(acme, max_expiration_days=30)
    base = {
        "membership": dev_membership,
        "name": "k",
        "environment": "production",
        "scopes": ["customers:read"],
    }
    for expires in (today(), today() - timedelta(days=1), today() + timedelta(days=31), None):
        with pytest.raises(ValidationError) as error:
            services.api_key_create(**base, expires_on=expires)
        assert "expires_on" in error.value.error_dict
    key, _ = services.api_key_create(**base, expires_on=today() + timedelta(days=30))
    assert key.expires_on == today() + timedelta(days=30)


def test_a_tenant_without_a_maximum_allows_keys_that_never_expire(make_key, developer):
    key, _ = make_key(developer, expires_on=None)
    assert key.expires_on is None


def test_fields_are_validated_with_their_limits(dev_membership, acme):
    _policy(acme, max_expiration_days=None)
    with pytest.raises(ValidationError) as error:
        services.api_key_create(
            membership=dev_membership,
            name="",
            description="x" * 1001,
            environment="prod",
            scopes=[],
            rate_limit=0,
        )
    assert set(error.value.error_dict) == {
        "name",
        "description",
        "environment",
        "scopes",
        "rate_limit",
    }
    with pytest.raises(ValidationError):
        services.api_key_create(
            membership=dev_membership, name="k", environment="production", scopes=["admin:all"]
        )


def test_the_keys_per_user_cap_refuses_one_more(make_key, developer, acme):
    _policy(acme, max_keys_per_user=2)
    make_key(developer)
    make_key(developer)
    with pytest.raises(ValidationError, match="maximum of 2"):
        make_key(developer)
    assert ApiKey.objects.count() == 2


def test_revoked_keys_do_not_count_towards_the_cap(make_key, developer, dev_membership, acme):
    _policy(acme, max_keys_per_user=1)
    key, _ = make_key(developer)
    services.api_key_revoke(key=key, membership=dev_membership)
    make_key(developer)
    assert ApiKey.objects.count() == 2


def test_the_owner_renames_and_describes_a_key(make_key, developer, dev_membership):
    key, _ = make_key(developer, name="Old")
    services.api_key_update(key=key, membership=dev_membership, name="New", description="Why")
    key.refresh_from_db()
    assert (key.name, key.description) == ("New", "Why")
    event = Event.objects.get(action=Event.Action.KEY_RENAMED)
    assert event.changes["name"] == {"before": "Old", "after": "New"}


def test_an_admin_cannot_rename_or_regenerate_or_roll_someone_elses_key(
    make_key, developer, admin_membership
):
    key, _ = make_key(developer)
    with pytest.raises(PermissionDenied):
        services.api_key_update(key=key, membership=admin_membership, name="x", description="")
    with pytest.raises(PermissionDenied):
        services.api_key_regenerate(key=key, membership=admin_membership)
    with pytest.raises(PermissionDenied):
        services.api_key_roll(
            key=key,
            membership=admin_membership,
            old_valid_until=timezone.now() + timedelta(hours=1),
        )
    with pytest.raises(PermissionDenied):
        services.api_key_delete(key=key, membership=admin_membership)


def test_admins_and_owners_disable_and_enable(
    make_key, developer, dev_membership, admin_membership
):
    key, _ = make_key(developer)
    services.api_key_disable(key=key, membership=admin_membership)
    key.refresh_from_db()
    assert key.status == Status.INACTIVE
    services.api_key_enable(key=key, membership=dev_membership)
    key.refresh_from_db()
    assert key.status == Status.ACTIVE
    actions = list(Event.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == [Event.Action.KEY_DISABLED, Event.Action.KEY_ENABLED]


def test_another_developer_cannot_touch_a_key(make_key, developer, acme):
    from tests.factories import MembershipFactory

    other = MembershipFactory(tenant=acme, is_developer=True)
    key, _ = make_key(developer)
    for service in (services.api_key_disable, services.api_key_revoke):
        with pytest.raises(PermissionDenied):
            service(key=key, membership=other)


def test_a_key_of_another_tenant_is_refused(make_key, developer, outsider):
    key, _ = make_key(developer)
    outsider_membership = Membership.objects.get(user=outsider)
    with pytest.raises(PermissionDenied):
        services.api_key_revoke(key=key, membership=outsider_membership)
    assert services.api_key_bulk_revoke(membership=outsider_membership, key_ids=[key.key_id]) == 0
    key.refresh_from_db()
    assert key.status == Status.ACTIVE


def test_regenerate_keeps_the_id_and_settings_and_ends_the_old_secret(
    make_key, developer, dev_membership
):
    key, old = make_key(developer, scopes=["usage:read", "customers:read"], rate_limit=7)
    services.api_key_roll(
        key=key, membership=dev_membership, old_valid_until=timezone.now() + timedelta(days=1)
    )
    key.refresh_from_db()
    key, new = services.api_key_regenerate(key=key, membership=dev_membership)
    assert keyformat.parse(new).key_id == key.key_id
    assert key.scope_list == ["customers:read", "usage:read"] and key.rate_limit == 7
    assert keyformat.hash_key(new) == key.secret_hash
    assert keyformat.hash_key(old) != key.secret_hash
    assert key.previous_secret_hash == "" and not key.in_grace_period


def test_roll_keeps_the_old_secret_until_its_deadline(make_key, developer, dev_membership):
    key, old = make_key(developer)
    deadline = timezone.now() + timedelta(days=3)
    key, new = services.api_key_roll(key=key, membership=dev_membership, old_valid_until=deadline)
    assert keyformat.hash_key(new) == key.secret_hash
    assert keyformat.hash_key(old) == key.previous_secret_hash
    assert key.in_grace_period
    with time_machine.travel(deadline + timedelta(seconds=1)):
        assert not key.in_grace_period
    assert "old_key_valid_until" in Event.objects.get(action=Event.Action.KEY_ROLLED).changes


def test_roll_allows_at_most_seven_days(make_key, developer, dev_membership):
    key, _ = make_key(developer)
    for deadline in (timezone.now() + timedelta(days=7, minutes=1), timezone.now()):
        with pytest.raises(ValidationError):
            services.api_key_roll(key=key, membership=dev_membership, old_valid_until=deadline)


def test_a_revoked_key_stays_revoked(make_key, developer, dev_membership, admin_membership):
    key, _ = make_key(developer)
    services.api_key_revoke(key=key, membership=admin_membership)
    key.refresh_from_db()
    assert key.status == Status.REVOKED and key.revoked_by.email == "admin@acme.test"
    for service in (
        services.api_key_enable,
        services.api_key_disable,
        services.api_key_regenerate,
        services.api_key_revoke,
    ):
        with pytest.raises(ValidationError):
            service(key=key, membership=dev_membership)
    key.refresh_from_db()
    assert key.status == Status.REVOKED


def test_bulk_revoke_revokes_each_once_with_an_event_each(make_key, developer, admin_membership):
    keys = [make_key(developer, name=f"k{n}")[0] for n in range(3)]
    services.api_key_revoke(key=keys[0], membership=admin_membership)
    count = services.api_key_bulk_revoke(
        membership=admin_membership, key_ids=[k.key_id for k in keys] + ["nonexistent"]
    )
    assert count == 2
    assert ApiKey.objects.with_status(Status.REVOKED).count() == 3
    assert Event.objects.filter(action=Event.Action.KEY_REVOKED).count() == 3


def test_only_admins_revoke_in_bulk(make_key, developer, dev_membership):
    key, _ = make_key(developer)
    with pytest.raises(PermissionDenied):
        services.api_key_bulk_revoke(membership=dev_membership, key_ids=[key.key_id])


def test_delete_removes_the_key_and_keeps_its_events(make_key, developer, dev_membership):
    key, _ = make_key(developer)
    key_id = key.key_id
    services.api_key_delete(key=key, membership=dev_membership)
    assert not ApiKey.objects.filter(key_id=key_id).exists()
    assert list(
        Event.objects.filter(target_id=key_id).order_by("id").values_list("action", flat=True)
    ) == [Event.Action.KEY_CREATED, Event.Action.KEY_DELETED]


def test_removing_a_member_revokes_their_keys(make_key, developer, admin):
    from tenants.services import member_remove

    key, _ = make_key(developer)
    member_remove(membership=Membership.objects.get(user=developer), actor=admin)
    key.refresh_from_db()
    assert key.status == Status.REVOKED


def test_expiry_is_derived_from_the_date(make_key, developer):
    key, _ = make_key(developer, expires_on=today() + timedelta(days=10))
    assert key.status == Status.ACTIVE and not key.is_expiring_soon
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        assert key.is_expiring_soon
        assert ApiKey.objects.with_expiration("expiring_soon").count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=10)):
        assert key.status == Status.ACTIVE  # the expiry date is the last day it works
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert key.status == Status.EXPIRED
        assert ApiKey.objects.with_status(Status.EXPIRED).count() == 1
        assert ApiKey.objects.with_status(Status.ACTIVE).count() == 0


def test_settings_changes_are_validated_and_recorded(admin_membership, dev_membership, acme):
    tenant_settings_update(membership=admin_membership, max_keys_per_user=50, api_keys_enabled=True)
    acme.settings.refresh_from_db()
    assert acme.settings.max_keys_per_user == 50
    event = Event.objects.get(action=Event.Action.SETTINGS_CHANGED)
    assert event.changes == {"max_keys_per_user": {"before": 10, "after": 50}}
    with pytest.raises(ValidationError):
        tenant_settings_update(membership=admin_membership, max_keys_per_user=1001)
    with pytest.raises(PermissionDenied):
        tenant_settings_update(membership=dev_membership, max_keys_per_user=5)
    acme.settings.refresh_from_db()
    assert acme.settings.max_keys_per_user == 50
