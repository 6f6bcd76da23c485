from django.http import HttpRequest

from tenants.models import Membership


def tenant_navigation(request: HttpRequest) -> dict[str, object]:
    """The current membership (set by `tenant_view`) and the user's tenants for the switcher.

    An error page can be rendered before authentication ran (a Host outside ALLOWED_HOSTS
    is refused by the first middleware that reads it): then there is no `request.user`."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)

    def switcher() -> list[Membership]:
        return list(
            Membership.objects.filter(user=user, tenant__is_active=True)
            .select_related("tenant")
            .order_by("tenant__name")
        )

    return {
        "membership": membership,
        "current_tenant": getattr(membership, "tenant", None),
        "user_memberships": switcher,
    }
