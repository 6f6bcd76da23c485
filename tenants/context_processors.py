from django.http import HttpRequest

from tenants.models import Membership


def tenant_navigation(request: HttpRequest) -> dict[str, object]:
    """The current membership (set by `tenant_view`) and the user's tenants for the switcher."""
    membership = getattr(request, "membership", None)
    if not request.user.is_authenticated:
        return {}

    def switcher() -> list[Membership]:
        return list(
            Membership.objects.filter(user=request.user, tenant__is_active=True)
            .select_related("tenant")
            .order_by("tenant__name")
        )

    return {
        "membership": membership,
        "current_tenant": getattr(membership, "tenant", None),
        "user_memberships": switcher,
    }
