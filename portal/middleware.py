from collections.abc import Callable

from django.conf import settings
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
