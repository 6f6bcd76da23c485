from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

from apikeys.models import Environment
from gateway.keystate import state
from gateway.verification import Check, bearer_key, verifier


class ApiKeyCheckMiddleware:
    """Begins verifying the API key of an `/api/` request before the rest of Django runs.

    With Redis, verification costs one round trip (gateway.keystate). Sent here, first thing,
    its answer travels while Django routes the request, and the endpoint reads it instead of
    waiting for it (a blocking wait costs this worker a sleep and a wake-up). Verification
    itself still happens in the endpoint, which ignores a check made for another key.

    Without Redis nothing travels (the check is a local read), so it stays out of the way."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.REDIS_URL:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.prefixes = tuple(f"/api/{name}/v1/" for name in Environment.values)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header or not request.path_info.startswith(self.prefixes):
            return self.get_response(request)
        key = bearer_key(header)
        check = verifier.start(key) if key else None
        if not isinstance(check, Check):  # a refusal is cheap to reach again in the endpoint
            return self.get_response(request)
        request.api_key_check = check
        response = self.get_response(request)
        if check.counted and not check.logged:
            # No endpoint logged this request (a 404, a 405): it consumes no quota either.
            state().refund(check.key_id, check.window)
        return response
