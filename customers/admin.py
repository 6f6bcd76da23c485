from django.contrib import admin

from customers.models import Customer, License


class LicenseInline(admin.StackedInline):
    model = License
    can_delete = False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "tenant", "environment", "status", "external_id")
    list_filter = ("environment", "status", "tenant")
    search_fields = ("name", "public_id", "external_id")
    readonly_fields = ("public_id",)
    inlines = (LicenseInline,)
