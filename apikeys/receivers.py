"""What the apikeys app does when the tenants app speaks."""

from django.dispatch import receiver

from apikeys.selectors import key_status_counts
from apikeys.services import revoke_keys_of_member
from tenants.selectors import register_key_counter
from tenants.signals import member_leaving

register_key_counter(key_status_counts)  # the Overview's API keys card


@receiver(member_leaving)
def revoke_keys_of_leaving_member(sender, tenant, user, actor, ip_address, **kwargs) -> None:
    revoke_keys_of_member(tenant=tenant, user=user, actor=actor, ip_address=ip_address)
