"""Hostile input meets a 4xx, never a 500 (SECURITY.md 27): numbers from query strings,
JSON nesting, NUL characters. One parser each, shared by the portal and the APIs."""

import json
import logging
import re
from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template import loader

logger = logging.getLogger("django.security")

# ASCII digits only: str.isdigit() and int() also take "²" or "٣" (the first crashes int()).
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
MAX_JSON_DEPTH = 32


def whole_number(raw: str | None) -> int | None:
    """`raw` as a non-negative integer (ASCII digits, at most 9 of them), else None."""
    if raw is None or not WHOLE_NUMBER.fullmatch(raw):
        return None
    return int(raw)


class JsonTooDeep(ValueError):
    pass


def load_json(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """json.loads, refusing (JsonTooDeep) arrays and objects nested deeper than `max_depth`.

    Raises ValueError (JsonTooDeep included) or UnicodeDecodeError for what is not JSON."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise JsonTooDeep("nested too deeply") from None
    stack = [(data, 1)] if isinstance(data, dict | list) else []
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > max_depth:
            raise JsonTooDeep("nested too deeply")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return data


class MalformedRequestMiddleware:
    """Requests no view could read are a 400 before anything reads them:
    - a NUL in the path or query string (PostgreSQL refuses NUL in text, and psycopg's
      DataError would otherwise look like an outage);
    - a form body in another charset than UTF-8 (Django refuses to parse it, and its own 400
      page, which runs the CSRF check, would read it again and fail with a 500).

    The APIs answer with a problem; the portal with its 400 page. A warning is logged, without
    a traceback: this is a client's mistake, not the server's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path_info or (query and ("%00" in query or "\x00" in query)):
            return _malformed(request, "The request's path or query string contains a NUL.")
        if request.method == "POST" and request.content_type == FORM:
            try:
                request.POST  # noqa: B018 - parsed now, where its failure can be answered
            except BadRequest:
                return _malformed(request, "Send forms encoded as UTF-8.")
        return self.get_response(request)


FORM = "application/x-www-form-urlencoded"


def _malformed(request: HttpRequest, detail: str) -> HttpResponse:
    logger.warning("Bad request refused (%s): %r", detail, request.path_info[:200])
    if request.path_info.startswith("/api/"):
        from web.problems import problem

        return problem(400, detail)
    return HttpResponseBadRequest(loader.render_to_string("400.html"))
