from django.urls import path

from api import system, views

app_name = "system_api"

urlpatterns = [
    path("tenants", system.tenants, name="tenants"),
    path("tenants/<slug:slug>", system.tenant, name="tenant"),
    path("tenants/<slug:slug>/status", system.tenant_status, name="tenant_status"),
    path("keys/revoke-found", system.keys_revoke_found, name="keys_revoke_found"),
    path("openapi.json", views.system_openapi, name="openapi"),
]
