"""The system API (`/api/system/v1/`): tenants, for service keys only (DESIGN section 4)."""

import re

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse

from gateway import fields
from gateway.endpoint import Caller, endpoint, json_body, ok, page_of
from tenants import services
from tenants.models import Tenant
from web.http import client_ip
from web.problems import ApiError, invalid

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")


def _tenant_json(tenant: Tenant) -> dict:
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "active": tenant.is_active,
        "api_keys_enabled": tenant.settings.api_keys_enabled,
        "created_at": tenant.created_at.isoformat(),
    }


def _tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.select_related("settings").filter(slug=slug).first()
    if tenant is None:
        raise ApiError(404, "No tenant has this slug.")
    return tenant


@endpoint({"GET": None, "POST": None}, system=True)
def tenants(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "POST":
        return _tenant_create(request, caller)
    return page_of(
        request, Tenant.objects.select_related("settings").order_by("slug"), _tenant_json
    )


def _tenant_create(request: HttpRequest, caller: Caller) -> HttpResponse:
    data = json_body(request)
    errors: fields.Errors = {}
    fields.unknown_fields(data, {"name", "slug"}, errors)
    name = fields.name(data, "name", errors, max_length=100, required=True)
    slug = fields.string(data, "slug", errors, max_length=50, required=True)
    if "slug" not in errors and not SLUG.match(slug):
        errors["slug"] = ["Lowercase letters, digits and inner hyphens only."]
    if errors:
        raise invalid(errors)
    try:
        tenant = services.tenant_create(
            name=name, slug=slug, actor=None, via=f"system API, key {caller.key.key_id}"
        )
    except IntegrityError:
        raise ApiError(
            409, "A tenant with this slug already exists.", errors={"slug": ["Already in use."]}
        ) from None
    response = ok(_tenant_json(Tenant.objects.select_related("settings").get(pk=tenant.pk)), 201)
    response["Location"] = f"/api/system/v1/tenants/{tenant.slug}"
    return response


@endpoint({"GET": None}, system=True)
def tenant(request: HttpRequest, caller: Caller, slug: str) -> HttpResponse:
    return ok(_tenant_json(_tenant(slug)))


@endpoint({"PUT": None}, system=True)
def tenant_status(request: HttpRequest, caller: Caller, slug: str) -> HttpResponse:
    found = _tenant(slug)
    data = json_body(request)
    errors: fields.Errors = {}
    fields.unknown_fields(data, {"active"}, errors)
    active = fields.boolean(data, "active", errors)
    if errors:
        raise invalid(errors)
    services.tenant_set_active(
        tenant=found,
        active=active,
        actor=None,
        ip_address=client_ip(request),
        via=f"system API, key {caller.key.key_id}",
    )
    return ok(_tenant_json(_tenant(slug)))
