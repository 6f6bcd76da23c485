"""Every tenant request goes through the signed-in user's membership (SECURITY.md 9).

A tenant the user does not belong to, or an object of another tenant, is a 404 that
does not confirm it exists; a missing role inside one's own tenant is a 403.
"""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.two_factor import user_has_second_factor
from tenants.models import Membership, Role

type TenantView[**P] = Callable[Concatenate[HttpRequest, Membership, P], HttpResponse]


class TenantRequest(HttpRequest):
    """A request inside a tenant: `tenant_view` sets `membership` (the navigation reads it)."""

    membership: Membership


def get_membership(request: HttpRequest, slug: str) -> Membership:
    try:
        return Membership.objects.select_related("tenant", "tenant__settings", "user").get(
            user=request.user, tenant__slug=slug, tenant__is_active=True
        )
    except Membership.DoesNotExist:
        raise Http404("No such tenant") from None


def second_factor_required(request: HttpRequest, membership: Membership) -> HttpResponse | None:
    """The tenant's two-factor policy: a member whose role it covers and who has no second
    factor is sent to set one up; one who has a factor that this session has not passed (it
    was signed in before the factor was set up) to the second step. HTMX requests are sent
    through HX-Redirect. None when the policy is met."""
    if not membership.tenant.settings.requires_second_factor(membership):
        return None
    if not user_has_second_factor(membership.user):
        url = f"{reverse('two_factor')}?{urlencode({'required': membership.tenant.slug})}"
    elif not request.user.is_verified():
        url = f"{reverse('second_factor')}?{urlencode({'next': request.get_full_path()})}"
    else:
        return None
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def tenant_view[**P](
    *roles: Role, without_second_factor: bool = False
) -> Callable[[TenantView[P]], Callable[..., HttpResponse]]:
    """Resolve `slug` to the user's membership; require one of `roles` if any are given, and
    the second factor the tenant's policy asks of the member (unless `without_second_factor`:
    the profile page, where the set-up starts)."""

    def decorator(view: TenantView[P]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: P.args, **kwargs: P.kwargs):
            membership = get_membership(request, slug)
            if roles and not any(membership.has_role(role) for role in roles):
                raise PermissionDenied("Your role does not allow this page.")
            if not without_second_factor and (
                refused := second_factor_required(request, membership)
            ):
                return refused
            cast(TenantRequest, request).membership = membership
            return view(request, membership, *args, **kwargs)

        return wrapper

    return decorator


def get_member_for_admin(membership: Membership, member_id: int) -> Membership:
    """A membership of the admin's own tenant, or 404."""
    return get_object_or_404(
        Membership.objects.select_related("user", "tenant"), tenant=membership.tenant, pk=member_id
    )
