"""`/api/provider/v1/`: usage of every managed customer, for JWTs signed with the tenant's
Provider API key (apikeys.provider)."""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apikeys.api import fields
from apikeys.api.endpoint import ok
from apikeys.api.problems import problem
from apikeys.api.views import MAX_USAGE_DAYS, usage_rows
from apikeys.provider import TokenRefused, verify_token
from customers.models import Customer


@csrf_exempt
def usage(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        response = problem(405, "Use GET on this path.")
        response["Allow"] = "GET"
        return response
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return problem(
            401,
            "Send 'Authorization: Bearer <JWT>' signed with your Provider API key.",
            title="Token required",
        )
    try:
        caller = verify_token(token.strip())
    except TokenRefused as refused:
        return problem(401, refused.detail, title=refused.title)
    errors: fields.Errors = {}
    period = request.GET.get("period", "daily")
    if period not in ("daily", "monthly"):
        errors["period"] = ["Must be daily or monthly."]
    today = timezone.now().date()
    start = fields.iso_date(
        request.GET.get("from", (today - timedelta(days=29)).isoformat()), "from", errors
    )
    end = fields.iso_date(request.GET.get("to", today.isoformat()), "to", errors)
    if not errors and start > end:
        errors["from"] = ["Must not be after 'to'."]
    if not errors and (end - start).days >= MAX_USAGE_DAYS:
        errors["to"] = [f"Ask for at most {MAX_USAGE_DAYS} days at a time."]
    if errors:
        return problem(422, "Some parameters are not valid; see `errors`.", errors=errors)
    managed = Customer.objects.filter(tenant=caller.tenant, environment="production")
    return ok(
        {
            "tenant": caller.tenant.slug,
            "period": period,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "data": usage_rows(managed, period, start, end),
        }
    )


@require_GET
def openapi(request: HttpRequest) -> HttpResponse:
    from apikeys.api.openapi import provider_document

    return ok(provider_document())
