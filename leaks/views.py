"""The two doors of a leak report: GitHub's secret scanning (signed, under `/api/`) and the
public page anyone may use (no sign-in, rate limited per client address)."""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from gateway.endpoint import ok, parse_json
from leaks import services, signatures
from leaks.forms import PublicReportForm
from web.http import client_ip
from web.inputs import whole_number
from web.problems import ApiError, invalid, problem

MAX_REPORT_BYTES = 1024 * 1024
MAX_MATCHES = 1000
MAX_TOKEN_LENGTH = 1000
MAX_FIELD_LENGTH = 2000
UNVERIFIED = "The report's signature could not be verified."


@csrf_exempt
def github(request: HttpRequest) -> HttpResponse:
    """`POST /api/leaks/github`: GitHub's secret scanning partner protocol. The signature is
    checked over the raw body before it is parsed; the answer is GitHub's feedback."""
    if request.method != "POST":
        response = problem(405, "Use POST on this path.", title="Method not allowed")
        response["Allow"] = "POST"
        return response
    length = request.META.get("CONTENT_LENGTH") or ""
    if not length:
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return problem(411, "Send the body with a Content-Length header (not chunked).")
    elif whole_number(length) is None or whole_number(length) > MAX_REPORT_BYTES:
        return problem(413, f"A report has at most {MAX_REPORT_BYTES:,} bytes.")
    try:
        body = request.body
    except RequestDataTooBig:
        return problem(413, f"A report has at most {MAX_REPORT_BYTES:,} bytes.")
    reporter = signatures.verify(
        body,
        request.META.get("HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER", ""),
        request.META.get("HTTP_GITHUB_PUBLIC_KEY_SIGNATURE", ""),
    )
    if reporter is None:
        return problem(401, UNVERIFIED)
    try:
        matches = _matches(parse_json(body))
    except ApiError as error:
        return error.response
    return ok(
        services.github_report(reporter=reporter, matches=matches, ip_address=client_ip(request))
    )


def _matches(data: object) -> list[services.Match]:
    """The report's entries: a JSON array of objects with a `token` (and optionally `type`,
    `url`, `source`), all strings; a 422 problem otherwise."""
    if not isinstance(data, list):
        raise invalid({"body": ["A report is a JSON array of matches."]})
    if len(data) > MAX_MATCHES:
        raise invalid({"body": [f"A report has at most {MAX_MATCHES} matches."]})
    matches, errors = [], {}
    for index, entry in enumerate(data):
        where = f"[{index}]"
        if not isinstance(entry, dict):
            errors[where] = ["Each match is an object with a token."]
            continue
        fields = {}
        for name in ("token", "type", "url", "source"):
            value = entry.get(name, "")
            limit = MAX_TOKEN_LENGTH if name == "token" else MAX_FIELD_LENGTH
            if not isinstance(value, str) or len(value) > limit:
                errors[f"{where}.{name}"] = [f"A string of at most {limit} characters."]
            fields[name] = value
        if not fields["token"]:
            errors.setdefault(f"{where}.token", ["This field is required."])
        if not any(key.startswith(where) for key in errors):
            matches.append(services.Match(**fields))
    if errors:
        raise invalid(errors)
    return matches


@never_cache
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """The public "Report a leaked key" page. Whatever was reported, a valid form gets the
    same answer; every POST counts against the client address's rate limit."""
    form = PublicReportForm(request.POST or None)
    if request.method == "POST":
        address = client_ip(request)
        try:
            services.count_public_report(address)
        except services.Throttled:
            context = {"form": form, "throttled": True}
            return render(request, "leaks/report.html", context, status=429)
        if form.is_valid():
            data = form.cleaned_data
            services.public_report(
                token=data["key"], url=data["url"], note=data["note"], ip_address=address
            )
            return render(request, "leaks/report_received.html")
        return render(request, "leaks/report.html", {"form": form}, status=400)
    return render(request, "leaks/report.html", {"form": form})
