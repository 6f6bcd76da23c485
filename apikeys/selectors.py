from django.db.models import QuerySet

from apikeys.models import ApiKey
from tenants.models import Event, Membership


def api_key_list(*, membership: Membership) -> QuerySet[ApiKey]:
    """Every key of the member's tenant (the admin console's starting point)."""
    return ApiKey.objects.filter(tenant=membership.tenant).select_related("owner", "tenant")


def own_api_key_list(*, membership: Membership) -> QuerySet[ApiKey]:
    return api_key_list(membership=membership).filter(owner_id=membership.user_id)


def api_key_events(*, key: ApiKey) -> QuerySet[Event]:
    return Event.objects.filter(tenant=key.tenant_id, target_type="key", target_id=key.key_id)
