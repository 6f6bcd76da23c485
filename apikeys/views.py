from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts import stepup
from apikeys import keyformat, provider, selectors, services
from apikeys.access import get_key_for_member, get_own_key
from apikeys.filters import ApiKeyFilter
from apikeys.forms import (
    ApiKeyCreateForm,
    ApiKeyEditForm,
    ApiKeyRenewForm,
    ApiKeyRollForm,
    RequestLogFilterForm,
    TenantSettingsForm,
)
from apikeys.models import ApiKey, Environment, ProviderKey, Status, request_log_lag_seconds
from tenants import services as tenant_services
from tenants.access import tenant_view
from tenants.models import Membership, Role, TenantSettings
from web.charts import sparkline, stacked_daily_bars
from web.htmx import HtmxHttpRequest, announce_and_close, render_page
from web.http import client_ip
from web.inputs import whole_number
from web.pagination import CappedPaginator

PAGE_SIZES = (25, 50, 100)
MY_KEYS_PAGE_SIZE = 50
# The HX-Trigger event after a key write: what shows keys listens for it and refetches itself.
KEY_CHANGED = "keyChanged"


def _page_size(params: QueryDict) -> int:
    size = whole_number(params.get("per_page"))
    if size is None:
        return PAGE_SIZES[0]
    return min(max(size, PAGE_SIZES[0]), PAGE_SIZES[-1])


SORTABLE = {
    "name": "Name",
    "created": "Created",
    "updated": "Last updated",
    "expires": "Expires",
    "last_used": "Last used",
}


def _sort_headers(params: QueryDict) -> dict[str, dict[str, str]]:
    """For each sortable column: the `sort` its header link sets, and its aria-sort. The URL's
    `sort` is the one truth the headers and the Sort menu both show; none is "newest first"."""
    current = params.get("sort") or "-created"
    headers = {}
    for column in SORTABLE:
        if current == column:
            headers[column] = {"next": f"-{column}", "aria": "ascending"}
        elif current == f"-{column}":
            headers[column] = {"next": column, "aria": "descending"}
        else:
            headers[column] = {"next": column if column == "name" else f"-{column}", "aria": ""}
    return headers


SPARKLINE_DAYS = 7


def _with_sparklines(membership: Membership, page: Page) -> Page:
    """Give each key of the page its `sparkline` (requests per day over the last week), from
    one query for the whole page."""
    page.object_list = keys = list(page.object_list)
    usage = selectors.api_keys_daily_requests(
        membership=membership, key_ids=[key.key_id for key in keys], days=SPARKLINE_DAYS
    )
    end = timezone.now().date()
    for key in keys:
        key.sparkline = sparkline(usage[key.key_id], days=SPARKLINE_DAYS, end=end, unit="requests")
    return page


def _console_context(request: HtmxHttpRequest, membership: Membership) -> dict:
    params = request.GET
    keys = ApiKeyFilter(
        params, queryset=selectors.api_key_list(membership=membership), request=request
    )
    paginator = CappedPaginator(keys.qs, _page_size(params))
    page = _with_sparklines(membership, paginator.get_page(params.get("page")))
    return {
        "filter": keys,
        "params": params,
        "page": page,
        "sort_headers": _sort_headers(params),
        "page_sizes": PAGE_SIZES,
        # "Revoke selected" shows only while a key on this page can be revoked.
        "revocable": any(not key.is_revoked for key in page.object_list),
    }


def _my_keys_context(request: HtmxHttpRequest, membership: Membership) -> dict:
    keys = selectors.own_api_key_list(membership=membership)
    page = Paginator(keys, MY_KEYS_PAGE_SIZE).get_page(request.GET.get("page"))
    return {"my_keys": _with_sparklines(membership, page), "policy": membership.tenant.settings}


@require_GET
@tenant_view(Role.ADMIN)
def console(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    response = render_page(
        request, "apikeys/console.html", "key-table", _console_context(request, membership)
    )
    if (
        request.htmx
        and request.htmx.trigger != "key-table"
        and not request.htmx.history_restore_request
    ):
        # The address bar keeps only the filters in use, so the URL reads well as a bookmark.
        # (Not when the table refetches itself after a write: the address is already right.)
        used = [
            (name, value)
            for name, values in request.GET.lists()
            for value in values
            if value and not (name == "per_page" and value == str(PAGE_SIZES[0]))
        ]
        response["HX-Push-Url"] = request.path + (f"?{urlencode(used)}" if used else "")
    return response


@require_GET
@tenant_view(without_second_factor=True)
def my_keys(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    """The profile page with "My API keys"."""
    return render_page(
        request, "apikeys/profile.html", "my-keys", _my_keys_context(request, membership)
    )


def _secret_response(
    request: HtmxHttpRequest, key: ApiKey, secret: str, title: str
) -> HttpResponse:
    """The one response that ever carries a key's secret: never cached, never again. For HTMX
    it replaces the dialog, and the tables behind it refetch themselves (without it)."""
    response = render(
        request, "apikeys/secret.html", {"key": key, "secret": secret, "title": title}
    )
    if request.htmx:
        trigger_client_event(response, KEY_CHANGED)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@tenant_view(Role.DEVELOPER)
def key_create(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    policy = membership.tenant.settings
    form = ApiKeyCreateForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        if (asked := stepup.check(request)) is not None:
            return asked
        try:
            key, secret = services.api_key_create(
                membership=membership, ip_address=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _secret_response(request, key, secret, "API key created")
    context = {
        "form": form,
        "policy": policy,
        "held": services.keys_held(tenant=membership.tenant, user_id=membership.user_id),
        "cap_message": services.key_cap_message(policy),
    }
    return render(request, "apikeys/key_create.html", context)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# The key page's chart, bottom up: (KeyUsageDay column, label, CSS colour class).
STATUS_SERIES = [
    ("succeeded", "Succeeded (2xx)", "ok"),
    ("client_errors", "Client errors (4xx)", "client"),
    ("rate_limited", "Rate limited (429)", "limited"),
    ("server_errors", "Server errors (5xx)", "server"),
    ("unclassified", "Not classified (counted before the split)", "other"),
]


@require_GET
@tenant_view()
def key_detail(request: HtmxHttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_key_for_member(membership, key_id)
    events = selectors.api_key_events(key=key)[:50]
    chart = stacked_daily_bars(
        selectors.api_key_daily_status_classes(key=key, days=30),
        series=STATUS_SERIES,
        optional=("unclassified",),
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
    return render_page(request, "apikeys/key_detail.html", "key-page", context)


def _key_changed(
    request: HtmxHttpRequest, membership: Membership, key: ApiKey, *, deleted: bool
) -> HttpResponse:
    """After a key write: for HTMX, `keyChanged` (the key tables and the key's page refetch
    themselves) and the dialog closes; a plain POST goes to the key's page. A deleted key's
    page is gone: then to the list instead."""
    page = key.get_absolute_url()
    my_keys = reverse("apikeys:my_keys", args=[membership.tenant.slug])
    if not request.htmx:
        return redirect(my_keys if deleted else page)
    if deleted and request.htmx.current_url_abs_path == page:
        return HttpResponseClientRedirect(my_keys)
    return announce_and_close(request, KEY_CHANGED)


def _confirmed_key_write(
    request: HtmxHttpRequest,
    membership: Membership,
    key: ApiKey,
    *,
    write: Callable[..., object],
    template: str,
    done: str,
    deleted: bool = False,
) -> HttpResponse:
    """GET asks (`template`, a dialog); POST calls `write` and says `done`, or shows why not."""
    error = None
    if request.method == "POST":
        try:
            write(key=key, membership=membership, ip_address=client_ip(request))
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, done)
            return _key_changed(request, membership, key, deleted=deleted)
    return render(request, template, {"key": key, "error": error})


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def key_disable(request: HtmxHttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_key_for_member(membership, key_id)
    return _confirmed_key_write(
        request,
        membership,
        key,
        write=services.api_key_disable,
        template="apikeys/key_disable.html",
        done=f"{key.name} was disabled. It can be enabled again.",
    )


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def key_enable(request: HtmxHttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_key_for_member(membership, key_id)
    return _confirmed_key_write(
        request,
        membership,
        key,
        write=services.api_key_enable,
        template="apikeys/key_enable.html",
        done=f"{key.name} was enabled.",
    )


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def key_revoke(request: HtmxHttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_key_for_member(membership, key_id)
    return _confirmed_key_write(
        request,
        membership,
        key,
        write=services.api_key_revoke,
        template="apikeys/key_revoke.html",
        done=f"{key.name} was revoked.",
    )


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def key_delete(request: HtmxHttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    """Only the owner deletes a key; afterwards its page is gone, so the answer is the list."""
    key = get_own_key(membership, key_id)
    return _confirmed_key_write(
        request,
        membership,
        key,
        write=services.api_key_delete,
        template="apikeys/key_delete.html",
        done=f"{key.name} was deleted.",
        deleted=True,
    )


@require_http_methods(["GET", "POST"])
@tenant_view(Role.DEVELOPER)
def key_edit(request: HtmxHttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_own_key(membership, key_id)
    if request.method == "POST":
        form = ApiKeyEditForm(request.POST, auto_id="edit_%s")
        if form.is_valid():
            try:
                key = services.api_key_update(
                    key=key,
                    membership=membership,
                    ip_address=client_ip(request),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"The settings of {key.name} were saved.")
                return _key_changed(request, membership, key, deleted=False)
    else:
        initial = {
            "name": key.name,
            "description": key.description,
            "rate_limit": key.rate_limit,
            "allowed_networks": key.allowed_networks,
        }
        form = ApiKeyEditForm(initial=initial, auto_id="edit_%s")
    return render(request, "apikeys/key_edit.html", {"key": key, "form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@tenant_view(Role.DEVELOPER)
def key_regenerate(request: HtmxHttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    """Regenerate a key; an expired one is renewed instead: a new secret with a new expiry."""
    key = get_own_key(membership, key_id)
    error = None
    if key.status == Status.EXPIRED:
        form = ApiKeyRenewForm(
            request.POST if request.method == "POST" else None,
            policy=membership.tenant.settings,
            auto_id="renew_%s",
        )
        # A POST without the renewal's own field (a plain regenerate) is refused by the
        # service: a new secret for an expired key would be refused at once.
        renew = request.POST.get("renew") == "yes"
        if request.method == "POST" and (form.is_valid() or not renew):
            if (asked := stepup.check(request)) is not None:
                return asked
            try:
                key, secret = services.api_key_regenerate(
                    key=key,
                    membership=membership,
                    ip_address=client_ip(request),
                    renew=renew,
                    expires_on=form.cleaned_data.get("expires_on") if renew else None,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return _secret_response(request, key, secret, "API key renewed")
        context = {"key": key, "form": form, "renew": True}
        return render(request, "apikeys/key_regenerate.html", context)
    if request.method == "POST":
        if (asked := stepup.check(request)) is not None:
            return asked
        try:
            key, secret = services.api_key_regenerate(
                key=key, membership=membership, ip_address=client_ip(request)
            )
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            return _secret_response(request, key, secret, "API key regenerated")
    return render(request, "apikeys/key_regenerate.html", {"key": key, "error": error})


@never_cache
@require_http_methods(["GET", "POST"])
@tenant_view(Role.DEVELOPER)
def key_roll(request: HtmxHttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    key = get_own_key(membership, key_id)
    if refusal := services.roll_refusal(key):
        # Only a working secret can be kept during a grace period: say why, offer nothing.
        return render(request, "apikeys/key_roll.html", {"key": key, "error": refusal})
    form = ApiKeyRollForm(request.POST or None, auto_id="roll_%s")
    if request.method == "POST" and form.is_valid():
        if (asked := stepup.check(request)) is not None:
            return asked
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
            return _secret_response(request, key, secret, "API key rolled")
    return render(request, "apikeys/key_roll.html", {"key": key, "form": form})


@require_POST
@tenant_view(Role.ADMIN)
def bulk_revoke(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
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
        return announce_and_close(request, KEY_CHANGED)
    return render(request, "apikeys/bulk_revoke.html", {"keys": keys})


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN)
def tenant_settings(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    policy = TenantSettings.objects.get(tenant=membership.tenant)
    form = TenantSettingsForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        if (asked := stepup.check(request)) is not None:
            return asked
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
def request_logs(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
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
def api_guide(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
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
def provider_api(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    active = ProviderKey.objects.filter(tenant=membership.tenant, revoked_at__isnull=True).first()
    context = _provider_context(request, membership, active)
    return render_page(request, "apikeys/provider.html", "provider-key", context)


def _provider_context(request: HtmxHttpRequest, membership: Membership, active) -> dict:
    return {
        "active": active,
        "audience": settings.PROVIDER_API_AUDIENCE,
        "endpoint": request.build_absolute_uri("/api/provider/v1/usage"),
    }


@never_cache
@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN)
def provider_generate(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    """The one response that carries the private key. While a key is active, generating
    revokes it: that needs a confirmation naming it (`replaces=<its kid>`), so a stray POST,
    or a confirmation given for a key another admin has since replaced, changes nothing."""
    active = ProviderKey.objects.filter(tenant=membership.tenant, revoked_at__isnull=True).first()
    if request.method == "GET" and active is None:
        return redirect("apikeys:provider", slug=membership.tenant.slug)
    if active is not None and (
        request.method == "GET" or request.POST.get("replaces") != active.kid
    ):
        return render(request, "apikeys/provider_generate.html", {"active": active})
    if (asked := stepup.check(request)) is not None:
        return asked
    key, private_pem = provider.provider_key_generate(
        membership=membership, ip_address=client_ip(request)
    )
    context = _provider_context(request, membership, key) | {"private_pem": private_pem}
    return render(request, "apikeys/provider_generated.html", context)


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN)
def provider_revoke(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    error = None
    if request.method == "POST":
        try:
            provider.provider_key_revoke(membership=membership, ip_address=client_ip(request))
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, "The Provider API key was revoked.")
            if request.htmx:
                return announce_and_close(request, "providerKeyChanged")
            return redirect("apikeys:provider", slug=membership.tenant.slug)
    return render(request, "apikeys/provider_revoke.html", {"error": error})
