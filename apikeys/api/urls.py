from django.urls import path

from apikeys.api import views

app_name = "api"

urlpatterns = [
    path("me", views.me, name="me"),
    path("customers", views.customers, name="customers"),
    path("customers/import", views.customer_import, name="customer_import"),
    path("customers/<str:customer_id>", views.customer, name="customer"),
    path("customers/<str:customer_id>/license", views.customer_license, name="license"),
    path("usage", views.usage, name="usage"),
    path("telemetry", views.telemetry, name="telemetry"),
    path("exports", views.exports, name="exports"),
    path("jobs/<str:job_id>", views.job, name="job"),
    path("jobs/<str:job_id>/download", views.job_download, name="job_download"),
    path("openapi.json", views.openapi, name="openapi"),
]
