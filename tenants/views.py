from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tenants import selectors, services
from tenants.access import get_member_for_admin, tenant_view
from tenants.forms import EventSearchForm, MemberAddForm, MemberLicenseForm, MemberRolesForm
from tenants.models import Membership, Role
from web.htmx import HtmxHttpRequest, announce_and_close, render_page
from web.http import client_ip

EVENTS_PER_PAGE = 50


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    """Send the user to their first tenant, or explain that they have none."""
    first = (
        Membership.objects.filter(user=request.user, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
        .first()
    )
    if first is not None:
        return redirect("tenants:home", slug=first.tenant.slug)
    return render(request, "portal/no_tenant.html")


@require_GET
@tenant_view()
def tenant_home(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    return render(request, "tenants/home.html", selectors.overview(membership=membership))


def _members_context(membership: Membership, form: MemberAddForm | None = None) -> dict:
    members = list(selectors.member_list(membership=membership))
    assigned = sum(m.has_license for m in members)
    return {
        "members": members,
        "form": form or MemberAddForm(),
        "licenses_assigned": assigned,
        "licenses_left": max(membership.tenant.user_licenses - assigned, 0),
    }


@require_GET
@tenant_view(Role.ADMIN)
def members(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    # For HTMX, the table: it refetches itself on `memberChanged`.
    return render_page(
        request, "tenants/members.html", "members-table", _members_context(membership)
    )


@require_POST
@tenant_view(Role.ADMIN)
def member_add(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            added = services.member_add(
                tenant=membership.tenant,
                actor=request.user,
                ip_address=client_ip(request),
                invite_url_base=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if added.user.has_usable_password():
                messages.success(request, f"{added.user.email} was added.")
            else:
                messages.success(request, f"An invitation was sent to {added.user.email}.")
            if not request.htmx:
                return redirect("tenants:members", slug=membership.tenant.slug)
            form = None
    status = 200 if form is None or request.htmx else 400
    return render_page(
        request,
        "tenants/members.html",
        "members-panel",
        _members_context(membership, form),
        status=status,
    )


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN)
def member_roles(request: HtmxHttpRequest, membership: Membership, member_id: int) -> HttpResponse:
    member = get_member_for_admin(membership, member_id)
    if request.method == "POST":
        form = MemberRolesForm(request.POST, auto_id="roles_%s")
        if form.is_valid():
            try:
                services.member_set_roles(
                    membership=member,
                    actor=request.user,
                    ip_address=client_ip(request),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Roles of {member.user.email} were saved.")
                return _after_member_change(request, membership)
    else:
        form = MemberRolesForm(
            initial={"is_admin": member.is_admin, "is_developer": member.is_developer},
            auto_id="roles_%s",
        )
    return render(request, "tenants/member_roles.html", {"member": member, "form": form})


@require_POST
@tenant_view(Role.ADMIN)
def member_license(
    request: HtmxHttpRequest, membership: Membership, member_id: int
) -> HttpResponse:
    """Assign a licence to a member, or take it back: one click in the members table, which
    comes back redrawn (the count, and every row's button)."""
    member = get_member_for_admin(membership, member_id)
    form = MemberLicenseForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose to assign or to unassign the licence.", status=400)
    licensed = form.cleaned_data["licensed"]
    try:
        services.member_set_license(
            membership=member, licensed=licensed, actor=request.user, ip_address=client_ip(request)
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        done = "now holds a licence" if licensed else "no longer holds a licence"
        messages.success(request, f"{member.user.email} {done}.")
    if not request.htmx:
        return redirect("tenants:members", slug=membership.tenant.slug)
    return render(request, "tenants/members.html#members-table", _members_context(membership))


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN)
def member_remove(request: HtmxHttpRequest, membership: Membership, member_id: int) -> HttpResponse:
    member = get_member_for_admin(membership, member_id)
    error = None
    if request.method == "POST":
        leaving = member.pk == membership.pk
        try:
            services.member_remove(
                membership=member, actor=request.user, ip_address=client_ip(request)
            )
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, f"{member.user.email} was removed from {membership.tenant}.")
            if leaving:
                # Removing oneself ends one's access to this tenant.
                if request.htmx:
                    return HttpResponseClientRedirect("/")
                return redirect("home")
            return _after_member_change(request, membership)
    return render(request, "tenants/member_remove.html", {"member": member, "error": error})


def _after_member_change(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    if not request.htmx:
        return redirect("tenants:members", slug=membership.tenant.slug)
    return announce_and_close(request, "memberChanged")


@require_GET
@tenant_view(Role.ADMIN)
def events(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    form = EventSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    paginator = Paginator(selectors.event_list(membership=membership, query=query), EVENTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render_page(
        request,
        "tenants/events.html",
        "events-table",
        {"form": form, "page": page, "query": query},
    )
