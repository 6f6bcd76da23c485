from django.urls import path

from apikeys import views

app_name = "apikeys"

urlpatterns = [
    path("keys/", views.console, name="console"),
    path("keys/new/", views.key_create, name="create"),
    path("keys/revoke/", views.bulk_revoke, name="bulk_revoke"),
    path("keys/<str:key_id>/", views.key_detail, name="detail"),
    path("keys/<str:key_id>/edit/", views.key_edit, name="edit"),
    path("keys/<str:key_id>/regenerate/", views.key_regenerate, name="regenerate"),
    path("keys/<str:key_id>/roll/", views.key_roll, name="roll"),
    path("keys/<str:key_id>/disable/", views.key_disable, name="disable"),
    path("keys/<str:key_id>/enable/", views.key_enable, name="enable"),
    path("keys/<str:key_id>/revoke/", views.key_revoke, name="revoke"),
    path("keys/<str:key_id>/delete/", views.key_delete, name="delete"),
    path("profile/", views.my_keys, name="my_keys"),
    path("settings/", views.tenant_settings, name="settings"),
    path("logs/", views.request_logs, name="logs"),
    path("api/", views.api_guide, name="api_guide"),
    path("integrations/provider-api/", views.provider_api, name="provider"),
    path("integrations/provider-api/generate/", views.provider_generate, name="provider_generate"),
    path("integrations/provider-api/revoke/", views.provider_revoke, name="provider_revoke"),
]
