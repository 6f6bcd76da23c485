"""RFC 9457 problem details: every API error is `application/problem+json`."""

import json

from django.http import HttpResponse

PROBLEM_TYPE = "https://keyward.dev/problems/"
TITLES = {
    400: "Malformed request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    411: "Length required",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid fields",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}
SLUGS = {
    400: "malformed-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    411: "length-required",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "invalid-fields",
    429: "rate-limited",
    500: "server-error",
    503: "unavailable",
}


def problem(status: int, detail: str, *, title: str = "", **extra: object) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE + SLUGS[status],
        "title": title or TITLES[status],
        "status": status,
        "detail": detail,
    } | extra
    response = HttpResponse(
        json.dumps(body), status=status, content_type="application/problem+json"
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="keyward", error="invalid_token"'
    response["Cache-Control"] = "no-store"
    return response


class ApiError(Exception):
    """Raised inside an endpoint to answer with a problem."""

    def __init__(self, status: int, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.response = problem(status, detail, **extra)


def invalid(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(422, "Some fields are not valid; see `errors`.", errors=errors)
