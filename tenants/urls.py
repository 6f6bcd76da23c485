from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.tenant_home, name="home"),
    path("members/", views.members, name="members"),
    path("members/add/", views.member_add, name="member_add"),
    path("members/<int:member_id>/roles/", views.member_roles, name="member_roles"),
    path("members/<int:member_id>/licence/", views.member_license, name="member_license"),
    path("members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("events/", views.events, name="events"),
]
