"""`/api/provider/v1/`: usage of every managed customer, for JWTs signed with the tenant's
Provider API key (apikeys.provider)."""

import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from customers.api import usage_params, usage_rows
from customers.models import Customer
from gateway.endpoint import ok
from gateway.provider import TokenRefused, verify_token
from gateway.verification import IN_URL, bearer_key, key_in_query
from web.problems import ApiError, problem

# A JWT (base64url of `{"...`, twice, then a signature) in the query string is a leaked token.
_JWT = re.compile(r"eyJ[0-9A-Za-z_-]*\.eyJ[0-9A-Za-z_-]*\.")


def _credential_in_query(request: HttpRequest) -> bool:
    """A key or a token in the query string, as a parameter's name or value."""
    return key_in_query(request.GET) or any(
        _JWT.search(text) for name, values in request.GET.lists() for text in (name, *values)
    )


@csrf_exempt
def usage(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        response = problem(405, "Use GET on this path.")
        response["Allow"] = "GET"
        return response
    if request.META.get("QUERY_STRING") and _credential_in_query(request):
        return problem(IN_URL.status, IN_URL.detail, title=IN_URL.title)
    token = bearer_key(request.META.get("HTTP_AUTHORIZATION", ""))
    if token is None:
        return problem(
            401,
            "Send 'Authorization: Bearer <JWT>' signed with your Provider API key.",
            title="Token required",
        )
    try:
        caller = verify_token(token)
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
