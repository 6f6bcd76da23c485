from django.db.models import Q, QuerySet

from tenants.models import Event, Membership


def member_list(*, membership: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=membership.tenant)
        .select_related("user")
        .order_by("user__email")
    )


def event_list(*, membership: Membership, query: str = "") -> QuerySet[Event]:
    """The tenant's events, newest first; `query` matches a key ID, a target's name (a key's
    name at the time) or the actor's email, within the tenant only."""
    events = Event.objects.filter(tenant=membership.tenant)
    if query:
        events = events.filter(
            Q(target_id__icontains=query)
            | Q(target_name__icontains=query)
            | Q(actor_email__icontains=query)
        )
    return events.order_by("-created_at", "-id")
