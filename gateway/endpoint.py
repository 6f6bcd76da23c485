"""The pipeline every platform API request goes through.

method -> key in URL? -> Bearer key verified -> network allowlist -> rate limit -> scope ->
the endpoint -> RateLimit headers -> request log (buffered). Errors at any step are problem
details.
"""

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from gateway.authentication import SERVICE_KEYS, TENANT_KEYS, authenticate
from gateway.fields import MAX_PAGE, MAX_PER_PAGE, int_param
from gateway.usage import LogEntry, buffer
from gateway.verification import (
    KeyRecord,
    Refusal,
    Verified,
)
from web.http import client_ip
from web.inputs import JsonTooDeep, load_json
from web.problems import ApiError, problem

logger = logging.getLogger("keyward.api")


@dataclass(frozen=True, slots=True)
class Caller:
    """What the endpoint knows about who calls: always from the key record, never the client."""

    key: KeyRecord
    environment: str

    @property
    def tenant_id(self) -> int:
        return self.key.tenant_id


def json_body(request: HttpRequest) -> dict:
    """The request's JSON object, or a 415 / 413 / 400 / 422 problem."""
    content_type = request.content_type or ""
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, "Send the body as JSON with 'Content-Type: application/json'.")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "The request body is too large.") from None
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError(422, "The request body must be a JSON object.", errors={})
    return data


def parse_json(raw: bytes) -> object:
    """A request body's JSON (any shape), or a 400 problem: not JSON, or nested too deeply.
    Every JSON endpoint reads its body through here."""
    try:
        return load_json(raw or b"null")
    except JsonTooDeep:
        raise ApiError(400, "The request body is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON.") from None


def _rate_limit_headers(response: HttpResponse, verified: Verified) -> None:
    # IETF draft-ietf-httpapi-ratelimit-headers: the policy and what is left of it.
    response["RateLimit-Policy"] = f'"per-key";q={verified.limit};w=60'
    if verified.used is not None:
        response["RateLimit"] = f'"per-key";r={verified.remaining};t={verified.reset_seconds}'


Scopes = dict[str, str | None]


def endpoint(scopes: Scopes, *, system: bool = False) -> Callable:
    """`scopes` maps each allowed method to the scope it needs (None: any valid key).

    With `system`, the endpoint belongs to the system API: service keys only."""

    # HEAD is a GET without its body, wherever GET is allowed.
    allowed = scopes | {"HEAD": scopes["GET"]} if "GET" in scopes else scopes

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, environment: str = "system", **kwargs) -> HttpResponse:
            started = time.perf_counter()
            if request.method not in allowed:
                response = problem(
                    405, f"Use {', '.join(scopes)} on this path.", title="Method not allowed"
                )
                response["Allow"] = ", ".join(allowed)
                return response
            try:
                principal = authenticate(
                    request, SERVICE_KEYS if system else TENANT_KEYS, environment
                )
            except DatabaseError:
                return _unavailable()
            if isinstance(principal, Refusal):
                return _refuse(principal)
            verified = principal.verified
            try:
                if principal.refused is not None:
                    response = _refuse(principal.refused)
                else:
                    response = _answer(request, view, verified, environment, allowed, kwargs)
            except DatabaseError:
                response = _unavailable()
            _rate_limit_headers(response, verified)
            record = verified.record
            buffer.record(
                LogEntry(
                    time.time(),
                    record.tenant_id,
                    record.pk,
                    record.key_id,
                    environment,
                    request.method,
                    request.path[:300],
                    response.status_code,
                    round((time.perf_counter() - started) * 1000, 3),
                    client_ip(request),
                )
            )
            return response

        wrapper.scopes = scopes
        return wrapper

    return decorator


def _unavailable() -> HttpResponse:
    logger.exception("Database error in the API")
    return problem(503, "The service is temporarily unavailable; try again shortly.")


def _refuse(refusal: Refusal) -> HttpResponse:
    return problem(refusal.status, refusal.detail, title=refusal.title)


def _answer(request, view, verified: Verified, environment: str, scopes: Scopes, kwargs):
    if verified.over_limit:
        response = problem(
            429,
            f"This key may make {verified.limit} requests a minute; "
            f"try again in {verified.reset_seconds} seconds.",
        )
        response["Retry-After"] = str(verified.reset_seconds)
        return response
    needed = scopes[request.method]
    if needed is not None and needed not in verified.record.scopes:
        return problem(403, f"This API key lacks the permission {needed!r}.", required=needed)
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not request.META.get(
        "CONTENT_LENGTH"
    ):
        # WSGI servers hand a chunked body to Django as an empty one: refuse, don't misread.
        return problem(411, "Send the body with a Content-Length header (not chunked).")
    caller = Caller(key=verified.record, environment=environment)
    try:
        return view(request, caller, **kwargs)
    except ApiError as error:
        return error.response
    except RequestDataTooBig:
        return problem(413, "The request body is too large.")


def public_get(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An API view anyone may GET (the health check, the OpenAPI documents): other methods
    get a 405 problem, never the portal's CSRF page."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = problem(405, "Use GET on this path.", title="Method not allowed")
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapper


def ok(data: object, status: int = 200) -> HttpResponse:
    """A JSON answer (plain json.dumps: the API's data is already JSON-ready)."""
    return HttpResponse(
        json.dumps(data, separators=(",", ":")), status=status, content_type="application/json"
    )


def page_of(request: HttpRequest, rows: QuerySet, as_json: Callable[[Any], dict]) -> HttpResponse:
    """One page of `rows` (`page`, `per_page` from the query string), as every list answers."""
    page = int_param(request, "page", 1, MAX_PAGE)
    per_page = int_param(request, "per_page", 50, MAX_PER_PAGE)
    total = rows.count()
    return ok(
        {
            "data": [as_json(row) for row in rows[(page - 1) * per_page : page * per_page]],
            "page": page,
            "per_page": per_page,
            "total": total,
            "has_more": page * per_page < total,
        }
    )
