from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apikeys.models import ApiKey, KeyUsageDay, RequestLog
from tenants.models import Event, Membership


def api_key_list(*, membership: Membership) -> QuerySet[ApiKey]:
    """Every key of the member's tenant (the admin console's starting point)."""
    return ApiKey.objects.filter(tenant=membership.tenant).select_related("owner", "tenant")


def own_api_key_list(*, membership: Membership) -> QuerySet[ApiKey]:
    return api_key_list(membership=membership).filter(owner_id=membership.user_id)


def api_key_events(*, key: ApiKey) -> QuerySet[Event]:
    return Event.objects.filter(tenant=key.tenant_id, target_type="key", target_id=key.key_id)


def api_key_daily_requests(*, key: ApiKey, days: int) -> dict:
    since = timezone.now().date() - timedelta(days=days - 1)
    rows = KeyUsageDay.objects.filter(tenant=key.tenant_id, key_id=key.key_id, day__gte=since)
    return dict(rows.values_list("day", "requests"))


def request_log_list(*, membership: Membership) -> QuerySet[RequestLog]:
    """The tenant's request log for admins; for anyone else, the log of their own keys."""
    logs = RequestLog.objects.filter(tenant=membership.tenant)
    if not membership.is_admin:
        own = ApiKey.objects.filter(tenant=membership.tenant, owner_id=membership.user_id)
        logs = logs.filter(key_id__in=own.values("key_id"))
    return logs.order_by("-created_at", "-id")


def api_keys_daily_requests(
    *, membership: Membership, key_ids: list[str], days: int
) -> dict[str, dict]:
    """Requests per day of each of these keys of the member's tenant over the last `days`
    days, in one query for a whole table: {key_id: {day: requests}}."""
    since = timezone.now().date() - timedelta(days=days - 1)
    rows = KeyUsageDay.objects.filter(
        tenant=membership.tenant, key_id__in=key_ids, day__gte=since
    ).values_list("key_id", "day", "requests")
    usage: dict[str, dict] = {key_id: {} for key_id in key_ids}
    for key_id, day, requests in rows:
        usage[key_id][day] = requests
    return usage
