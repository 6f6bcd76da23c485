"""The platform API, `/api/<environment>/v1/`: each app's endpoints, wired in one place."""

from django.urls import path

from api import views
from customers import api as customers_api
from gateway import views as gateway_views
from jobs import api as jobs_api

app_name = "api"

urlpatterns = [
    path("me", gateway_views.me, name="me"),
    path("customers", customers_api.customers, name="customers"),
    path("customers/import", jobs_api.customer_import, name="customer_import"),
    path("customers/<str:customer_id>", customers_api.customer, name="customer"),
    path("customers/<str:customer_id>/license", customers_api.customer_license, name="license"),
    path("usage", customers_api.usage, name="usage"),
    path("telemetry", customers_api.telemetry, name="telemetry"),
    path("exports", jobs_api.exports, name="exports"),
    path("jobs/<str:job_id>", jobs_api.job, name="job"),
    path("jobs/<str:job_id>/download", jobs_api.job_download, name="job_download"),
    path("openapi.json", views.openapi, name="openapi"),
]
