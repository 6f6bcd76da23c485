from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import Http404, HttpRequest, HttpResponse


class SystemAdminHostMiddleware:
    """With SYSTEM_ADMIN_HOST set, the system admin site lives on that host alone, and
    nothing else does (static files excepted)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        admin_host = settings.SYSTEM_ADMIN_HOST
        if admin_host and not request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            on_admin_host = request.get_host().rsplit(":", 1)[0].lower() == admin_host
            admin_path = request.path.startswith("/" + settings.SYSTEM_ADMIN_PATH)
            if on_admin_host != admin_path:
                raise Http404("Not served on this host")
        return self.get_response(request)


class ApiKeyCheckMiddleware:
    """Begins verifying the API key of an `/api/` request before the rest of Django runs.

    With Redis, verification costs one round trip (apikeys.keystate). Sent here, first thing,
    its answer travels while Django routes the request, and the endpoint reads it instead of
    waiting for it (a blocking wait costs this worker a sleep and a wake-up). Verification
    itself still happens in the endpoint, which ignores a check made for another key.

    Without Redis nothing travels (the check is a local read), so it stays out of the way."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.REDIS_URL:
            raise MiddlewareNotUsed
        from apikeys.models import Environment

        self.get_response = get_response
        self.prefixes = tuple(f"/api/{name}/v1/" for name in Environment.values)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header or not request.path_info.startswith(self.prefixes):
            return self.get_response(request)
        from apikeys.keystate import state
        from apikeys.verification import Check, bearer_key, verifier

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
