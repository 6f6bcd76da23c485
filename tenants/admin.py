from django.contrib import admin
from django.http import HttpRequest

from tenants.models import Event, Membership, Tenant, TenantSettings


class TenantSettingsInline(admin.StackedInline):
    model = TenantSettings
    can_delete = False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (TenantSettingsInline, MembershipInline)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A tenant made here gets its (default) key policy even if the inline was left empty.
        TenantSettings.objects.get_or_create(tenant=form.instance)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "is_admin", "is_developer", "created_at")
    list_filter = ("tenant", "is_admin", "is_developer")
    search_fields = ("user__email", "tenant__name", "tenant__slug")
    autocomplete_fields = ("user", "tenant")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Events are append-only: readable here, never added, changed or deleted."""

    list_display = ("created_at", "tenant", "actor_email", "action", "target_name", "target_id")
    list_filter = ("action", "tenant")
    search_fields = ("target_id", "target_name", "actor_email")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False
