"""What the apikeys app does when the tenants app speaks."""

from django.dispatch import receiver

from apikeys.services import revoke_keys_of_member
from tenants.signals import member_leaving


@receiver(member_leaving)
def revoke_keys_of_leaving_member(sender, tenant, user, actor, ip_address, **kwargs) -> None:
    revoke_keys_of_member(tenant=tenant, user=user, actor=actor, ip_address=ip_address)
