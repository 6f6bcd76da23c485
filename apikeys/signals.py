"""Publish every committed change that can alter a verification (apikeys.keystate), and
write the buffered request log between requests (apikeys.usage)."""

from django.core.signals import request_finished
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apikeys import keystate, usage
from apikeys.models import ApiKey
from tenants.models import Tenant, TenantSettings


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
def api_key_changed(sender, instance: ApiKey, **kwargs) -> None:
    key_id = instance.key_id
    transaction.on_commit(lambda: keystate.key_changed(key_id))


@receiver(post_save, sender=Tenant)
@receiver(post_save, sender=TenantSettings)
def tenant_changed(sender, instance, **kwargs) -> None:
    transaction.on_commit(keystate.tenant_changed)


@receiver(request_finished)
def write_request_log_if_due(sender, **kwargs) -> None:
    usage.flush_if_due()
