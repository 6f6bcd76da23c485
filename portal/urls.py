from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path, register_converter

from api import views as api_views
from apikeys.models import Environment
from customers import provider_api
from gateway import views as gateway_views
from leaks import views as leak_views
from portal import views as portal_views
from tenants import views as tenant_views


class EnvironmentConverter:
    """Matches an environment's name only, so the platform API can be routed first."""

    regex = "|".join(Environment.values)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(EnvironmentConverter, "environment")

urlpatterns = [
    # The platform API first: it is the hot path, and Django tries patterns in order.
    path("api/<environment:environment>/v1/", include("api.urls")),
    path("", tenant_views.home, name="home"),
    path("favicon.ico", portal_views.favicon),
    path("accounts/", include("accounts.urls")),
    path("api/health", gateway_views.health, name="health"),
    path("api/system/v1/", include("api.system_urls")),
    path("api/provider/v1/usage", provider_api.usage, name="provider_usage"),
    path("api/provider/v1/openapi.json", api_views.provider_openapi, name="provider_openapi"),
    # Leak reports from secret scanners (GitHub's partner protocol): signed, not an environment.
    path("api/leaks/github", leak_views.github, name="leaks_github"),
    re_path(r"^api/", gateway_views.api_not_found),
    path("", include("leaks.urls")),
    path("t/<slug:slug>/", include("tenants.urls")),
    path("t/<slug:slug>/", include("apikeys.urls")),
    path("t/<slug:slug>/", include("customers.urls")),
    path("t/<slug:slug>/", include("jobs.urls")),
    path(settings.SYSTEM_ADMIN_PATH, admin.site.urls),
]
