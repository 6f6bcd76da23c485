"""The API's own endpoints: who am I (`/me`), the health check, and the problem for a path
that is no endpoint."""

import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from gateway.endpoint import Caller, endpoint, ok, public_get
from web.problems import problem


@endpoint({"GET": None})
def me(request: HttpRequest, caller: Caller) -> HttpResponse:
    key = caller.key
    return ok(
        {
            "tenant": key.tenant_slug,
            "key_id": key.key_id,
            "name": key.name,
            "environment": key.environment,
            "scopes": sorted(key.scopes),
            "rate_limit": key.rate_limit,
            "expires_on": key.expires_on.isoformat() if key.expires_on else None,
            "customer_scope": list(key.customer_scope),
        }
    )


@public_get
def health(request: HttpRequest) -> HttpResponse:
    """Unauthenticated liveness check (and the benchmark's baseline)."""
    return ok({"status": "ok"})


_KNOWN_API = re.compile(r"^/api/(?:production|staging|development|system|provider)/v1/")
_ANY_ENVIRONMENT = re.compile(r"^/api/[^/]*/v1/")


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any other `/api/...` path: a problem, like every other API answer."""
    if not _KNOWN_API.match(request.path_info) and _ANY_ENVIRONMENT.match(request.path_info):
        return problem(404, "There is no such environment.")
    return problem(404, "There is no such endpoint.")
