"""`/api/provider/v1/`: usage of every managed customer, for JWTs signed with the tenant's
Provider API key (apikeys.provider)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apikeys.api.endpoint import ok
from apikeys.api.problems import ApiError, problem
from apikeys.api.views import usage_params, usage_rows
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
    try:
        period, start, end = usage_params(request)
    except ApiError as error:
        return error.response
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
