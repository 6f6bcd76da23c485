"""Customers on the system admin site, written through customers.services like the API."""

from django.contrib import admin
from django.http import HttpRequest

from customers import services
from customers.models import Customer, License

VIA = "system admin"


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
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None):
        # A customer stays in its tenant and environment: its ID means nothing elsewhere.
        return ("public_id", "tenant", "environment") if obj is not None else ("public_id",)

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        # A customer keeps its history (usage, licences, events): cancel it instead.
        return False

    def save_model(self, request: HttpRequest, obj: Customer, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.customer_update(
                customer=Customer.objects.get(pk=obj.pk),
                via=VIA,
                **{field: data[field] for field in ("name", "external_id", "status")},
            )
            return
        made = services.customer_create(
            tenant_id=data["tenant"].pk,
            environment=data["environment"],
            name=data["name"],
            external_id=data.get("external_id", ""),
            status=data["status"],
            via=VIA,
        )
        obj.pk, obj.public_id = made.pk, made.public_id

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for license_form in formset.forms:
            if not license_form.has_changed():
                continue
            data = license_form.cleaned_data
            license = services.license_set(
                customer=form.instance,
                seats=data["seats"],
                tier=data["tier"],
                trial=data["trial"],
                not_for_resale=data["not_for_resale"],
                via=VIA,
            )
            formset.changed_objects.append((license, license_form.changed_data))
