"""The gateway listens to the apps below it: what they change is published to every worker,
and the request log is written between requests."""

from django.core.signals import request_finished
from django.dispatch import receiver

from apikeys.signals import keys_changed
from gateway import keystate, usage
from tenants.signals import tenant_changed


@receiver(keys_changed)
def publish_key_change(sender, key_ids, **kwargs) -> None:
    keystate.changed(key_ids=key_ids)


@receiver(tenant_changed)
def publish_tenant_change(sender, tenant, **kwargs) -> None:
    keystate.changed(tenant=True)


@receiver(request_finished)
def write_request_log_if_due(sender, **kwargs) -> None:
    usage.flush_if_due()
