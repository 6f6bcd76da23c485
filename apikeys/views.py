from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from apikeys import keyformat, provider, selectors, services
from apikeys.access import get_key_for_member, get_own_key
from apikeys.filters import ApiKeyFilter
from apikeys.forms import (
    ApiKeyCreateForm,
    ApiKeyEditForm,
    ApiKeyRollForm,
    RequestLogFilterForm,
    TenantSettingsForm,
)
from apikeys.models import ApiKey, Environment, ProviderKey, request_log_lag_seconds
from tenants import services as tenant_services
from tenants.access import tenant_view
from tenants.models import Membership, Role, TenantSettings
from web.charts import daily_bars
from web.htmx import render_page, swap_and_close
from web.http import client_ip
from web.inputs import whole_number
from web.pagination import CappedPaginator

PAGE_SIZES = (25, 50, 100)
MY_KEYS_PAGE_SIZE = 50


def _page_size(params: QueryDict) -> int:
    size = whole_number(params.get("per_page"))
    if size is None:
        return PAGE_SIZES[0]
    return min(max(size, PAGE_SIZES[0]), PAGE_SIZES[-1])


def _console_params(request: HttpRequest) -> QueryDict:
    """The console's filters: the query string, or for an HTMX write made from the console,
    the query string of the page the browser is showing (kept in the URL by hx-push-url)."""
    if request.method == "POST" and request.htmx and request.htmx.current_url:
        return QueryDict(urlsplit(request.htmx.current_url).query)
    return request.GET


SORTABLE = {
    "name": "Name",
    "created": "Created",
    "updated": "Last updated",
    "expires": "Expires",
    "last_used": "Last used",
}


def _sort_headers(params: QueryDict) -> dict[str, dict[str, str]]:
    """For each sortable column: the `sort` its header link sets, and its aria-sort."""
    current = params.get("sort", "")
    headers = {}
    for column in SORTABLE:
        if current == column:
            headers[column] = {"next": f"-{column}", "aria": "ascending"}
        elif current == f"-{column}":
            headers[column] = {"next": column, "aria": "descending"}
        else:
            headers[column] = {"next": column if column == "name" else f"-{column}", "aria": ""}
    return headers


def _console_context(request: HttpRequest, membership: Membership) -> dict:
    params = _console_params(request)
    keys = ApiKeyFilter(
        params, queryset=selectors.api_key_list(membership=membership), request=request
    )
    paginator = CappedPaginator(keys.qs, _page_size(params))
    return {
        "filter": keys,
        "params": params,
        "page": paginator.get_page(params.get("page")),
        "sort_headers": _sort_headers(params),
        "page_sizes": PAGE_SIZES,
    }


def _my_keys_context(request: HttpRequest, membership: Membership) -> dict:
    keys = selectors.own_api_key_list(membership=membership)
    page = Paginator(keys, MY_KEYS_PAGE_SIZE).get_page(request.GET.get("page"))
    return {"my_keys": page, "policy": membership.tenant.settings}


@require_GET
@tenant_view(Role.ADMIN)
def console(request: HttpRequest, membership: Membership) -> HttpResponse:
    response = render_page(
        request, "apikeys/console.html", "key-table", _console_context(request, membership)
    )
    if request.htmx:
        # The address bar keeps only the filters in use, so the URL reads well as a bookmark.
        used = [
            (name, value)
            for name, values in request.GET.lists()
            for value in values
            if value and not (name == "per_page" and value == str(PAGE_SIZES[0]))
        ]
        response["HX-Push-Url"] = request.path + (f"?{urlencode(used)}" if used else "")
    return response


@require_GET
@tenant_view()
def my_keys(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The profile page with "My API keys"."""
    return render_page(
        request, "apikeys/profile.html", "my-keys", _my_keys_context(request, membership)
    )


def _secret_response(
    request: HttpRequest, membership: Membership, key: ApiKey, secret: str, title: str
) -> HttpResponse:
    """The one response that ever carries a key's secret: never cached, never again."""
    origin = _origin(request)
    context = {"key": key, "secret": secret, "title": title, "origin": origin}
    if origin == "profile":
        context |= _my_keys_context(request, membership)
    if request.htmx:
        response = render(request, "apikeys/secret.html#dialog", context)
        response["HX-Retarget"] = "#modal"
        response["HX-Reswap"] = "innerHTML"
    else:
        response = render(request, "apikeys/secret.html", context)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@tenant_view(Role.DEVELOPER)
def key_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    policy = membership.tenant.settings
    form = ApiKeyCreateForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = services.api_key_create(
                membership=membership, ip_address=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _secret_response(request, membership, key, secret, "API key created")
    partial = "create-form" if request.method == "POST" else "dialog"
    return render_page(
        request, "apikeys/key_create.html", partial, {"form": form, "policy": policy}
    )


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_GET
@tenant_view()
def key_detail(request: HttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_key_for_member(membership, key_id)
    events = selectors.api_key_events(key=key)[:50]
    chart = daily_bars(
        selectors.api_key_daily_requests(key=key, days=30),
        days=30,
        end=timezone.now().date(),
        unit="requests",
    )
    context = {
        "key": key,
        "events": events,
        "chart": chart,
        "flush_seconds": request_log_lag_seconds(),
    }
    return render(request, "apikeys/key_detail.html", context)


ORIGINS = ("profile", "console", "detail")


def _origin(request: HttpRequest) -> str:
    """Where a key action was started from, so its answer goes back there."""
    origin = request.GET.get("from") or request.POST.get("from", "")
    return origin if origin in ORIGINS else "profile"


def _after_key_change(request: HttpRequest, membership: Membership, key: ApiKey) -> HttpResponse:
    """Back to where the action started: the console, the profile, or the key's page."""
    origin = _origin(request)
    if not request.htmx:
        if origin == "console" and membership.is_admin:
            return redirect("apikeys:console", slug=membership.tenant.slug)
        if origin == "detail" and key.pk:
            return redirect(key.get_absolute_url())
        return redirect("apikeys:my_keys", slug=membership.tenant.slug)
    if origin == "console" and membership.is_admin:
        return swap_and_close(
            request, "apikeys/console.html", "key-table", _console_context(request, membership)
        )
    if origin == "detail":
        if key.pk is None:  # deleted: its page is gone
            return HttpResponseClientRedirect(
                reverse("apikeys:my_keys", args=[membership.tenant.slug])
            )
        return HttpResponseClientRefresh()
    return swap_and_close(
        request, "apikeys/profile.html", "my-keys", _my_keys_context(request, membership)
    )


ACTIONS = {
    # action: (service, needs owner, confirmation title, button label, danger, message)
    "disable": (
        services.api_key_disable,
        False,
        "Disable API key",
        "Disable key",
        False,
        "{name} was disabled. It can be enabled again.",
    ),
    "enable": (
        services.api_key_enable,
        False,
        "Enable API key",
        "Enable key",
        False,
        "{name} was enabled.",
    ),
    "revoke": (
        services.api_key_revoke,
        False,
        "Revoke API key",
        "Revoke key",
        True,
        "{name} was revoked.",
    ),
    "delete": (
        services.api_key_delete,
        True,
        "Delete API key",
        "Delete key",
        True,
        "{name} was deleted.",
    ),
}


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def key_action(
    request: HttpRequest, membership: Membership, key_id: str, action: str
) -> HttpResponse:
    """Disable, enable, revoke or delete one key, after a confirmation."""
    service, owner_only, title, button, danger, done = ACTIONS[action]
    key = (get_own_key if owner_only else get_key_for_member)(membership, key_id)
    error = None
    if request.method == "POST":
        try:
            service(key=key, membership=membership, ip_address=client_ip(request))
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, done.format(name=key.name))
            return _after_key_change(request, membership, key)
    context = {
        "key": key,
        "action": action,
        "title": title,
        "button": button,
        "danger": danger,
        "error": error,
        "origin": _origin(request),
    }
    partial = "confirm-form" if request.method == "POST" else "dialog"
    return render_page(request, "apikeys/key_confirm.html", partial, context)


@require_http_methods(["GET", "POST"])
@tenant_view(Role.DEVELOPER)
def key_edit(request: HttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_own_key(membership, key_id)
    if request.method == "POST":
        form = ApiKeyEditForm(request.POST, auto_id="edit_%s")
        if form.is_valid():
            try:
                services.api_key_update(
                    key=key,
                    membership=membership,
                    ip_address=client_ip(request),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "The key was saved.")
                return _after_key_change(request, membership, key)
        partial = "edit-form"
    else:
        form = ApiKeyEditForm(
            initial={"name": key.name, "description": key.description}, auto_id="edit_%s"
        )
        partial = "dialog"
    context = {
        "key": key,
        "form": form,
        "origin": _origin(request),
    }
    return render_page(request, "apikeys/key_edit.html", partial, context)


@never_cache
@require_http_methods(["GET", "POST"])
@tenant_view(Role.DEVELOPER)
def key_regenerate(request: HttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_own_key(membership, key_id)
    error = None
    if request.method == "POST":
        try:
            key, secret = services.api_key_regenerate(
                key=key, membership=membership, ip_address=client_ip(request)
            )
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            return _secret_response(request, membership, key, secret, "API key regenerated")
    context = {"key": key, "error": error, "origin": _origin(request)}
    partial = "regenerate-form" if request.method == "POST" else "dialog"
    return render_page(request, "apikeys/key_regenerate.html", partial, context)


@never_cache
@require_http_methods(["GET", "POST"])
@tenant_view(Role.DEVELOPER)
def key_roll(request: HttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_own_key(membership, key_id)
    form = ApiKeyRollForm(request.POST or None, auto_id="roll_%s")
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = services.api_key_roll(
                key=key,
                membership=membership,
                old_valid_until=form.old_valid_until(),
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _secret_response(request, membership, key, secret, "API key rolled")
    partial = "roll-form" if request.method == "POST" else "dialog"
    context = {"key": key, "form": form, "origin": _origin(request)}
    return render_page(request, "apikeys/key_roll.html", partial, context)


@require_POST
@tenant_view(Role.ADMIN)
def bulk_revoke(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Step one (no `confirm`): name how many keys will go. Step two: revoke them."""
    # Only what can be a key ID reaches the query (a NUL would be a DataError on PostgreSQL).
    key_ids = [
        key_id
        for key_id in request.POST.getlist("key")[: PAGE_SIZES[-1]]
        if keyformat.KEY_ID_PATTERN.fullmatch(key_id)
    ]
    keys = list(
        selectors.api_key_list(membership=membership)
        .filter(key_id__in=key_ids)
        .not_revoked()
        .select_related(None)
        .only("key_id", "name")
    )
    if request.POST.get("confirm") == "yes" and keys:
        count = services.api_key_bulk_revoke(
            membership=membership,
            key_ids=[key.key_id for key in keys],
            ip_address=client_ip(request),
        )
        messages.success(request, f"{count} API key{'s' if count != 1 else ''} revoked.")
        if not request.htmx:
            return redirect("apikeys:console", slug=membership.tenant.slug)
        return swap_and_close(
            request, "apikeys/console.html", "key-table", _console_context(request, membership)
        )
    return render_page(request, "apikeys/bulk_revoke.html", "dialog", {"keys": keys})


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN)
def tenant_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    policy = TenantSettings.objects.get(tenant=membership.tenant)
    form = TenantSettingsForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        tenant_services.tenant_settings_update(
            membership=membership, ip_address=client_ip(request), **form.cleaned_data
        )
        messages.success(request, "Settings saved.")
        return redirect("apikeys:settings", slug=membership.tenant.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "apikeys/settings.html", {"form": form}, status=status)


LOGS_PER_PAGE = 50


@require_GET
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def request_logs(request: HttpRequest, membership: Membership) -> HttpResponse:
    """API requests of the tenant (admins) or of one's own keys (developers)."""
    form = RequestLogFilterForm(request.GET)
    logs = selectors.request_log_list(membership=membership)
    paginator = CappedPaginator(form.apply(logs), LOGS_PER_PAGE)
    context = {
        "form": form,
        "page": paginator.get_page(request.GET.get("page")),
        "flush_seconds": request_log_lag_seconds(),
    }
    return render_page(request, "apikeys/logs.html", "log-table", context)


@require_GET
@tenant_view()
def api_guide(request: HttpRequest, membership: Membership) -> HttpResponse:
    """How to call the API for this tenant, per environment, with curl."""
    environment = request.GET.get("environment", "production")
    if environment not in Environment.values:
        environment = "production"
    base = request.build_absolute_uri(f"/api/{environment}/v1")
    context = {
        "environment": environment,
        "environments": Environment.choices,
        "base": base,
        "prefix": Environment(environment).key_prefix,
    }
    return render(request, "apikeys/api_guide.html", context)


@require_GET
@tenant_view(Role.ADMIN)
def provider_api(request: HttpRequest, membership: Membership) -> HttpResponse:
    active = ProviderKey.objects.filter(tenant=membership.tenant, revoked_at__isnull=True).first()
    return render(request, "apikeys/provider.html", _provider_context(request, membership, active))


def _provider_context(request: HttpRequest, membership: Membership, active) -> dict:
    return {
        "active": active,
        "audience": settings.PROVIDER_API_AUDIENCE,
        "endpoint": request.build_absolute_uri("/api/provider/v1/usage"),
    }


@never_cache
@require_POST
@tenant_view(Role.ADMIN)
def provider_generate(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The one response that carries the private key."""
    key, private_pem = provider.provider_key_generate(
        membership=membership, ip_address=client_ip(request)
    )
    context = _provider_context(request, membership, key) | {"private_pem": private_pem}
    return render(request, "apikeys/provider_generated.html", context)


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN)
def provider_revoke(request: HttpRequest, membership: Membership) -> HttpResponse:
    page = reverse("apikeys:provider", args=[membership.tenant.slug])
    if request.method == "POST":
        try:
            provider.provider_key_revoke(membership=membership, ip_address=client_ip(request))
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, "The Provider API key was revoked.")
        if request.htmx:
            return HttpResponseClientRedirect(page)
        return redirect(page)
    return render_page(request, "apikeys/provider_revoke.html", "dialog", {})
