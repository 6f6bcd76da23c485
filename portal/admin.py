import logging
from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template import loader
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from accounts import stepup
from accounts.two_factor import user_has_second_factor

logger = logging.getLogger("django.security")


class SystemAdminSite(admin.AdminSite):
    """The system admin site: superusers only, never tenant admins or developers."""

    site_header = "Keyward system administration"
    site_title = "Keyward system"
    index_title = "System"

    def has_permission(self, request: HttpRequest) -> bool:
        """A superuser whose session passed a second factor (django-otp's `is_verified`)."""
        user = request.user
        return user.is_active and user.is_superuser and user.is_verified()

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """The portal's sign-in (password, then the second factor) instead of the admin's
        own form; a superuser without a factor is led to set one up, one with a factor whose
        session is not verified yet to the second step."""
        user = request.user
        index = reverse("admin:index", current_app=self.name)
        wanted = request.GET.get(REDIRECT_FIELD_NAME) or index
        if not url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
            wanted = index
        if user.is_authenticated and user.is_active and user.is_superuser:
            if not user_has_second_factor(user):
                return redirect(f"{reverse('two_factor')}?{urlencode({'required': 'system'})}")
            if not user.is_verified():
                return redirect(f"{reverse('second_factor')}?{urlencode({'next': wanted})}")
            return redirect(wanted)
        if user.is_authenticated:
            return super().login(request, extra_context)  # "not authorised" for this account
        return redirect(f"{reverse('login')}?{urlencode({REDIRECT_FIELD_NAME: wanted})}")

    def get_urls(self):
        # Step-up's passkey options on this site's own host (SYSTEM_ADMIN_HOST serves no more).
        own = [
            path(
                "step-up/passkey/options/",
                self.admin_view(stepup.passkey_options),
                name="step_up_passkey_options",
            )
        ]
        return own + super().get_urls()

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
