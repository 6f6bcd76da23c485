from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apikeys.models import STATUS_CLASSES, ApiKey, KeyUsageDay, RequestLog, Status
from tenants.models import Event, Membership, Tenant


def api_key_list(*, membership: Membership) -> QuerySet[ApiKey]:
    """Every key of the member's tenant (the admin console's starting point)."""
    return ApiKey.objects.filter(tenant=membership.tenant).select_related("owner", "tenant")


def own_api_key_list(*, membership: Membership) -> QuerySet[ApiKey]:
    return api_key_list(membership=membership).filter(owner_id=membership.user_id)


def api_key_events(*, key: ApiKey) -> QuerySet[Event]:
    return Event.objects.filter(tenant=key.tenant_id, target_type="key", target_id=key.key_id)


def api_key_daily_status_classes(*, key: ApiKey, days: int) -> dict:
    """Per day of the last `days`: the key's requests by status class (STATUS_CLASSES), and
    as `unclassified` what the total holds beyond them (counts from before the split)."""
    since = timezone.now().date() - timedelta(days=days - 1)
    rows = KeyUsageDay.objects.filter(tenant=key.tenant_id, key_id=key.key_id, day__gte=since)
    result = {}
    for day, total, *classes in rows.values_list("day", "requests", *STATUS_CLASSES):
        counts = dict(zip(STATUS_CLASSES, classes, strict=True))
        counts["unclassified"] = max(0, total - sum(classes))
        result[day] = counts
    return result


def request_log_list(*, membership: Membership) -> QuerySet[RequestLog]:
    """The tenant's request log for admins; for anyone else, the log of their own keys."""
    logs = RequestLog.objects.filter(tenant=membership.tenant)
    if not membership.is_admin:
        own = ApiKey.objects.filter(tenant=membership.tenant, owner_id=membership.user_id)
        logs = logs.filter(key_id__in=own.values("key_id"))
    return logs.order_by("-created_at", "-id")


def key_status_counts(tenant: Tenant) -> dict[str, int]:
    """The tenant's keys by status, in one query (the Overview's API keys card)."""
    keys = ApiKey.objects.filter(tenant=tenant)
    return keys.aggregate(
        total=Count("pk"),
        **{
            status.value: Count("pk", filter=Q(pk__in=keys.with_status(status).values("pk")))
            for status in Status
        },
    )


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
