from django.urls import path

from leaks import views

app_name = "leaks"

urlpatterns = [
    path("report-a-leaked-key/", views.report, name="report"),
]
