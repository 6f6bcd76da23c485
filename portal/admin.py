import logging
from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template import loader

logger = logging.getLogger("django.security")


class SystemAdminSite(admin.AdminSite):
    """The system admin site: superusers only, never tenant admins or developers."""

    site_header = "Keyward system administration"
    site_title = "Keyward system"
    index_title = "System"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_superuser

    def admin_view(self, view: Callable, cacheable: bool = False) -> Callable:
        """Every admin page, its own and third-party apps' alike: a parameter Django's admin
        cannot take (a year out of range in the date hierarchy, a selected ID that is not
        one) is a 400, not a 500. Rendered here, so errors in rendering are caught too."""
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                response = inner(request, *args, **kwargs)
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
            except (ValueError, OverflowError) as exc:
                logger.warning("Admin request refused (%s): %r", exc, request.get_full_path())
                return HttpResponseBadRequest(loader.render_to_string("400.html"))
            return response

        return guarded
