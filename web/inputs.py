"""Hostile input meets a 4xx, never a 500 (SECURITY.md 27): numbers from query strings,
JSON nesting, NUL characters. One parser each, shared by the portal and the APIs."""

import codecs
import json
import logging
import re
from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template import loader
from django.utils.http import parse_header_parameters

from web.problems import problem

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
        # Already checked by guard_wsgi when it wraps the application (every deployment);
        # checked here for whatever calls Django without it (the test client).
        refused = (
            None
            if request.META.get(GUARDED)
            else content_type_problem(request.META.get("CONTENT_TYPE", ""))
        )
        if refused:
            return _malformed(request, refused)
        if request.method == "POST" and request.content_type == FORM:
            try:
                request.POST  # noqa: B018 - parsed now, where its failure can be answered
            except BadRequest:
                return _malformed(request, "Send forms encoded as UTF-8.")
        return self.get_response(request)


FORM = "application/x-www-form-urlencoded"
GUARDED = "keyward.content_type_checked"  # set in the WSGI environ by guard_wsgi
UTF8 = codecs.lookup("utf-8").name


def content_type_problem(content_type: str) -> str | None:
    """Why a Content-Type header cannot be accepted, or None. Django decodes the query string
    and form bodies in the charset it names, so a client choosing UTF-7 or EBCDIC could smuggle
    NUL, lone surrogates or a disguised key past every check: only UTF-8 is accepted."""
    if not content_type:
        return None
    try:
        _, params = parse_header_parameters(content_type)
    except ValueError:
        return "The Content-Type header cannot be read."
    charset = params.get("charset")
    if charset is None:
        return None
    try:
        if codecs.lookup(charset).name == UTF8:
            return None
    except LookupError:
        pass
    return "Send text encoded as UTF-8 (charset=utf-8), or name no charset."


def guard_wsgi(application: Callable) -> Callable:
    """Refuse, before Django builds its request, what Django cannot build one from: a
    Content-Type header it cannot parse (its request constructor raises, outside every
    middleware, and the server answers a bare 500) or in a charset other than UTF-8."""

    def guarded(environ: dict, start_response: Callable) -> object:
        refused = content_type_problem(environ.get("CONTENT_TYPE", ""))
        if refused is None:
            environ[GUARDED] = True
            return application(environ, start_response)
        path = environ.get("PATH_INFO", "")
        logger.warning("Bad request refused (%s): %r", refused, path[:200])
        if path.startswith("/api/"):
            answer = problem(400, refused)
            body, content_type = answer.content, answer["Content-Type"]
        else:
            body = loader.render_to_string("400.html").encode()
            content_type = "text/html; charset=utf-8"
        start_response(
            "400 Bad Request",
            [("Content-Type", content_type), ("Content-Length", str(len(body)))],
        )
        return [body]

    return guarded


def _malformed(request: HttpRequest, detail: str) -> HttpResponse:
    logger.warning("Bad request refused (%s): %r", detail, request.path_info[:200])
    if request.path_info.startswith("/api/"):
        return problem(400, detail)
    return HttpResponseBadRequest(loader.render_to_string("400.html"))
