from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from tenants.models import Event, Membership, Tenant


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


@dataclass(frozen=True)
class KeyRequirements:
    """What a member needs to generate API keys (seed 003), and who can give what is missing."""

    licensed: bool
    developer: bool
    enabled: bool
    admin_emails: tuple[str, ...]

    @property
    def met(self) -> bool:
        return self.licensed and self.developer and self.enabled

    @property
    def missing(self) -> int:
        return [self.licensed, self.developer, self.enabled].count(False)


def key_requirements(*, membership: Membership) -> KeyRequirements:
    """The three requirements for generating keys, read from the membership (and the
    tenant's admins, named only when something is missing)."""
    licensed = membership.has_license
    developer = membership.is_developer
    enabled = membership.tenant.settings.api_keys_enabled
    admins: tuple[str, ...] = ()
    if not (licensed and developer and enabled):
        admins = tuple(
            Membership.objects.filter(tenant=membership.tenant, is_admin=True)
            .order_by("user__email")
            .values_list("user__email", flat=True)
        )
    return KeyRequirements(licensed, developer, enabled, admins)


# The Overview's API keys card counts keys by status; the keys live in a higher app
# (apikeys), which registers its counter here when it starts (AppConfig.ready).
type KeyCounter = Callable[[Tenant], Mapping[str, int]]
_key_counter: KeyCounter | None = None


def register_key_counter(counter: KeyCounter) -> None:
    global _key_counter
    _key_counter = counter


def overview(*, membership: Membership) -> dict[str, object]:
    """What the Overview shows beyond the membership: for admins, the tenant's keys by
    status and its licences. A fixed number of queries, however many keys there are."""
    if not membership.is_admin:
        return {}
    tenant = membership.tenant
    return {
        "key_counts": _key_counter(tenant) if _key_counter is not None else None,
        "licenses_assigned": licenses_assigned(tenant=tenant),
    }


def licenses_assigned(*, tenant: Tenant) -> int:
    return Membership.objects.filter(tenant=tenant, has_license=True).count()
