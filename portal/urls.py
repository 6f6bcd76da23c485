from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.home, name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("accounts/", include("accounts.urls")),
    path("t/<slug:slug>/", include("tenants.urls")),
    path(settings.SYSTEM_ADMIN_PATH, admin.site.urls),
]
