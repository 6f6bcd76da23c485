from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.module_loading import import_string


class SystemAdminHostMiddleware:
    """With SYSTEM_ADMIN_HOST set, the system admin site lives on that host alone, and
    nothing else does (static files excepted), except what signing in to it needs: the
    account pages (`/accounts/`: the password, the second factor, setting one up, signing
    out), which the portal's host serves too. Sessions are per host: a system admin signs in
    on the admin host itself."""

    ACCOUNTS_PATH = "/accounts/"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        admin_host = settings.SYSTEM_ADMIN_HOST
        path = request.path
        if (
            admin_host
            and not path.startswith("/" + settings.STATIC_URL.lstrip("/"))
            and not path.startswith(self.ACCOUNTS_PATH)
        ):
            on_admin_host = request.get_host().rsplit(":", 1)[0].lower() == admin_host
            admin_path = path.startswith("/" + settings.SYSTEM_ADMIN_PATH)
            if on_admin_host != admin_path:
                raise Http404("Not served on this host")
        return self.get_response(request)


class ApiHostMiddleware:
    """In API_MIDDLEWARE, after the security headers' middleware: what the portal's
    CommonMiddleware does for the Host, done for the API. A host it does not serve is a 400
    (DisallowedHost, logged as one line by portal.logs) that still carries the headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.get_host()
        return self.get_response(request)


class _ApiHandler(BaseHandler):
    """The request handler of `/api/`: Django's, over settings.API_MIDDLEWARE (synchronous,
    as the portal's WSGI workers are)."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.API_MIDDLEWARE):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class ApiRouteMiddleware:
    """First in MIDDLEWARE: sends an `/api/` request down its own, shorter chain
    (settings.API_MIDDLEWARE, then the same URLconf and views), and everything else down the
    portal's. What the portal's CommonMiddleware does that the API needs is done by the API
    chain (`ApiHostMiddleware`: the Host against ALLOWED_HOSTS) and here (a
    `Content-Length`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        api = _ApiHandler()
        api.load_middleware()
        self.api = api._middleware_chain

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        response = self.api(request)
        if not response.streaming and "Content-Length" not in response:
            response.headers["Content-Length"] = str(len(response.content))
        return response
