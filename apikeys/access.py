from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from apikeys.models import ApiKey
from tenants.models import Membership


def get_key_for_member(membership: Membership, key_id: str) -> ApiKey:
    """A key the member may see: any key of the tenant for admins, else only their own.

    Everything else, including every key of another tenant, is a 404."""
    keys = ApiKey.objects.select_related("owner", "tenant").filter(tenant=membership.tenant)
    if not membership.is_admin:
        keys = keys.filter(owner_id=membership.user_id)
    return get_object_or_404(keys, key_id=key_id)


def get_own_key(membership: Membership, key_id: str) -> ApiKey:
    """A key the member owns: 404 if they may not see it, 403 if it is someone else's."""
    key = get_key_for_member(membership, key_id)
    if key.owner_id != membership.user_id:
        raise PermissionDenied("Only the key's owner can do this.")
    return key
