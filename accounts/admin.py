from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_static import admin as _otp_static_admin  # noqa: F401
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as _otp_totp_admin  # noqa: F401
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services, sessions, two_factor
from accounts.forms import AdminUserChangeForm, AdminUserCreationForm
from accounts.models import User

# django-otp's own device pages would show every user's TOTP key (and its QR code) and
# let devices be added or deleted with no event, no step-up and no sign-out: a system admin
# resets a user's factors from the user's page instead (`reset_second_factors`).
# (Their admin modules are imported above, so that they are registered before this.)
admin.site.unregister([TOTPDevice, StaticDevice])


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_superuser", "last_login")
    list_filter = ("is_active", "is_superuser")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined", "second_factors")
    filter_horizontal = ()
    actions = ["reset_second_factors"]

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, ("Two-factor sign-in", {"fields": ("second_factors",)}))

    @admin.display(description="Second factors")
    def second_factors(self, obj: User) -> str:
        app = "authenticator app" if two_factor.confirmed_totp(obj) else ""
        passkeys = obj.passkey_set.filter(confirmed=True).count()
        parts = [p for p in (app, f"{passkeys} passkey(s)" if passkeys else "") if p]
        if not parts:
            return "None"
        return ", ".join(parts) + f"; {two_factor.recovery_codes_left(obj)} recovery code(s) left"

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        """A password a system admin sets signs out every session of the user, as a password
        reset does (the admin's own session stays when it is their own password)."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, unquote(id))
            if user is not None:
                keep = request.session.session_key if user.pk == request.user.pk else None
                sessions.end_sessions(user, keep_session_key=keep)
        return response

    @admin.action(description="Reset second factors (lost authenticator or passkey)")
    def reset_second_factors(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Lost-factor recovery: each selected user's factors are removed (one event each);
        they sign in with their password and set up a new factor."""
        from web.http import client_ip

        for user in queryset:
            services.reset_second_factors(
                user=user, actor=request.user, ip_address=client_ip(request)
            )
        self.message_user(
            request,
            f"Second factors reset for {queryset.count()} user(s). They sign in with their "
            "password and set up a new factor.",
            messages.SUCCESS,
        )
