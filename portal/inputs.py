"""Hostile input meets a 4xx, never a 500 (SECURITY.md 27): numbers from query strings,
JSON nesting, NUL characters. One parser each, shared by the portal and the APIs."""

import json
import re
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse

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


class NulCharacter(SuspiciousOperation):
    """A NUL in the path or the query string: no text of Keyward's can hold one."""


class RefuseNulMiddleware:
    """A NUL in the path or query string is a 400 before anything reads it (PostgreSQL
    refuses NUL in text, and psycopg's DataError would otherwise look like an outage).

    The APIs answer with a problem; the portal with Django's plain 400 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path_info or (query and ("%00" in query or "\x00" in query)):
            if request.path_info.startswith("/api/"):
                from apikeys.api.problems import problem

                return problem(400, "The request's path or query string contains a NUL.")
            raise NulCharacter("NUL in the path or query string")
        return self.get_response(request)
