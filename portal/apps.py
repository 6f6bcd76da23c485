from django.contrib.admin.apps import AdminConfig


class SystemAdminConfig(AdminConfig):
    """Django's admin, with the system admin site as the default site."""

    default_site = "portal.admin.SystemAdminSite"
