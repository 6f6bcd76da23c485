"""The system API (`/api/system/v1/`): tenants, for service keys only (DESIGN section 4)."""

import re

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse

from apikeys import keyformat
from apikeys import services as key_services
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


MAX_FOUND_KEYS = 100


@endpoint({"POST": None}, system=True)
def keys_revoke_found(request: HttpRequest, caller: Caller) -> HttpResponse:
    """`keyward-scan --revoke`: revoke the tenant keys a scan found, each marked leaked where
    it was found, whatever its tenant's leak policy. A token that is no live secret (a
    look-alike, an old secret of a regenerated key) changes nothing."""
    data = json_body(request)
    errors: fields.Errors = {}
    fields.unknown_fields(data, {"keys"}, errors)
    found = data.get("keys")
    if not isinstance(found, list) or not 1 <= len(found) <= MAX_FOUND_KEYS:
        errors["keys"] = [f"A list of 1 to {MAX_FOUND_KEYS} found keys."]
        raise invalid(errors)
    entries = []
    for index, entry in enumerate(found):
        where = f"keys[{index}]"
        if not isinstance(entry, dict):
            errors[where] = ["An object with `token` and `found_at`."]
            continue
        inner: fields.Errors = {}
        fields.unknown_fields(entry, {"token", "found_at"}, inner)
        token = fields.string(entry, "token", inner, max_length=200, required=True)
        found_at = fields.string(
            entry, "found_at", inner, max_length=key_services.LEAK_SOURCE_MAX, required=False
        )
        for name, messages in inner.items():
            errors[f"{where}.{name}"] = messages
        if not inner:
            entries.append((token, "" if found_at is fields.MISSING else found_at))
    if errors:
        raise invalid(errors)
    service = f"system API, key {caller.key.key_id}"
    answer = []
    for token, found_at in entries:
        parsed = keyformat.parse(token)
        key = key_services.api_key_revoke_found(token=token, found_at=found_at, service=service)
        answer.append({"key_id": parsed.key_id if parsed else None, "revoked": key is not None})
    return ok({"keys": answer})
