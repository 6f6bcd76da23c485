"""What the apikeys app does when the tenants app or a request says so.

Key-state changes are published by the services themselves (apikeys.keystate.changed), not
by model signals, which `.update()` and raw SQL skip."""

from django.core.signals import request_finished
from django.dispatch import receiver

from apikeys import keystate, usage
from apikeys.services import revoke_keys_of_member
from tenants.signals import member_leaving, tenant_changed


@receiver(tenant_changed)
def publish_tenant_change(sender, tenant, **kwargs) -> None:
    keystate.changed(tenant=True)


@receiver(member_leaving)
def revoke_keys_of_leaving_member(sender, tenant, user, actor, ip_address, **kwargs) -> None:
    revoke_keys_of_member(tenant=tenant, user=user, actor=actor, ip_address=ip_address)


@receiver(request_finished)
def write_request_log_if_due(sender, **kwargs) -> None:
    usage.flush_if_due()
