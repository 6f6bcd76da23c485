from django.urls import path

from jobs import views

app_name = "jobs"

urlpatterns = [
    path("jobs/", views.job_list, name="list"),
    path("jobs/<uuid:job_id>/row/", views.job_row, name="row"),
    path("jobs/<uuid:job_id>/download/", views.job_download, name="download"),
]
