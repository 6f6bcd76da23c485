from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from leaks import services
from leaks.models import TrustedReporter


class TrustedReporterForm(forms.ModelForm):
    class Meta:
        model = TrustedReporter
        fields = ["name", "key_identifier", "public_key_pem", "is_active"]
        widgets = {"public_key_pem": forms.Textarea(attrs={"rows": 6, "spellcheck": "false"})}

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            services.check_reporter(
                data.get("name", ""), data.get("key_identifier", ""), data.get("public_key_pem", "")
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    self.add_error(field, message)
        return data


@admin.register(TrustedReporter)
class TrustedReporterAdmin(admin.ModelAdmin):
    """Secret scanners whose signed leak reports `POST /api/leaks/github` acts on."""

    form = TrustedReporterForm
    list_display = ("name", "key_identifier", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "key_identifier")
    readonly_fields = ("created_at",)

    def save_model(self, request: HttpRequest, obj: TrustedReporter, form, change: bool) -> None:
        data = form.cleaned_data
        values = {
            "name": data["name"],
            "key_identifier": data["key_identifier"],
            "public_key_pem": data["public_key_pem"],
            "actor": request.user,
        }
        if change:
            services.reporter_update(reporter=obj, is_active=data.get("is_active", False), **values)
            return
        created = services.reporter_create(is_active=data.get("is_active", False), **values)
        obj.pk, obj.created_at = created.pk, created.created_at

    def delete_model(self, request: HttpRequest, obj: TrustedReporter) -> None:
        services.reporter_delete(reporter=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for reporter in queryset:
            services.reporter_delete(reporter=reporter, actor=request.user)
