from django.db.models import QuerySet

from tenants.models import Event, Membership


def member_list(*, membership: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=membership.tenant)
        .select_related("user")
        .order_by("user__email")
    )


def event_list(*, membership: Membership, target_id: str = "") -> QuerySet[Event]:
    events = Event.objects.filter(tenant=membership.tenant)
    if target_id:
        events = events.filter(target_id__icontains=target_id)
    return events.order_by("-created_at", "-id")
