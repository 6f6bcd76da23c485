from django.contrib import admin
from django.http import HttpRequest


class SystemAdminSite(admin.AdminSite):
    """The system admin site: superusers only, never tenant admins or developers."""

    site_header = "Keyward system administration"
    site_title = "Keyward system"
    index_title = "System"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_superuser
