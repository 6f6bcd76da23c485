"""`/api/provider/v1/`: usage of every managed customer, for JWTs signed with the tenant's
Provider API key (apikeys.provider)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from customers.api import usage_params, usage_rows
from customers.models import Customer
from gateway.authentication import PROVIDER_TOKENS, authenticate
from gateway.endpoint import ok
from gateway.verification import Refusal
from web.problems import ApiError, problem


@csrf_exempt
def usage(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        response = problem(405, "Use GET on this path.")
        response["Allow"] = "GET"
        return response
    principal = authenticate(request, PROVIDER_TOKENS)
    if isinstance(principal, Refusal):
        return problem(principal.status, principal.detail, title=principal.title)
    caller = principal.provider
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
