from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache

from accounts import stepup
from apikeys import services
from apikeys.models import Expiration, ServiceApiKey, Status, today
from web.http import client_ip


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(Status.ACTIVE, "Active"), (Status.REVOKED, "Revoked"), (Status.EXPIRED, "Expired")]

    def queryset(self, request, queryset):
        return queryset.with_status(self.value()) if self.value() else queryset


class ExpirationFilter(admin.SimpleListFilter):
    title = "expiration state"
    parameter_name = "expiration"

    def lookups(self, request, model_admin):
        return Expiration.choices

    def queryset(self, request, queryset):
        return queryset.with_expiration(self.value()) if self.value() else queryset


class GenerateForm(forms.ModelForm):
    class Meta:
        model = ServiceApiKey
        fields = ["service_name", "description", "expires_on"]
        widgets = {
            "expires_on": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
        }

    def clean_service_name(self) -> str:
        name = self.cleaned_data["service_name"].strip()
        others = ServiceApiKey.objects.filter(service_name__iexact=name)
        if others.exists():
            raise ValidationError("A key for a service with this name already exists.")
        return name

    def clean_expires_on(self):
        expires = self.cleaned_data["expires_on"]
        if expires is not None and expires <= today():
            raise ValidationError("The expiration date must be in the future.")
        return expires


@admin.register(ServiceApiKey)
class ServiceApiKeyAdmin(admin.ModelAdmin):
    """Service API keys: generate (secret shown once), list, revoke. Nothing re-activates a
    revoked key or edits a secret or a status by hand."""

    form = GenerateForm
    add_form_template = "admin/apikeys/serviceapikey/generate.html"
    change_list_template = "admin/apikeys/serviceapikey/change_list.html"
    list_display = (
        "service_name",
        "short_description",
        "status_badge",
        "created_at",
        "expires_on",
        "last_used_at",
        "row_actions",
    )
    list_filter = (StatusFilter, ExpirationFilter)
    search_fields = ("service_name", "description")
    readonly_fields = (
        "service_name",
        "key_id",
        "status_badge",
        "expires_on",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    actions = None

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description="description")
    def short_description(self, obj: ServiceApiKey) -> str:
        return obj.description if len(obj.description) <= 80 else obj.description[:79] + "…"

    @admin.display(description="status")
    def status_badge(self, obj: ServiceApiKey) -> str:
        badge = format_html(
            '<span class="kw-badge kw-badge-{}">{}</span>', obj.status, obj.status.label
        )
        if obj.is_expiring_soon:
            badge += mark_safe(' <span class="kw-badge kw-badge-expiring">Expiring soon</span>')
        return badge

    @admin.display(description="actions")
    def row_actions(self, obj: ServiceApiKey) -> str:
        if obj.status != Status.ACTIVE:
            return ""
        url = reverse("admin:apikeys_serviceapikey_revoke", args=[obj.pk])
        return format_html(
            '<details class="kw-row-menu"><summary aria-label="Actions for {}">⋯</summary>'
            '<div class="kw-menu-list"><a href="{}">Revoke Key</a></div></details>',
            obj.service_name,
            url,
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = (extra_context or {}) | {"title": "Service API Keys"}
        return super().changelist_view(request, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = (extra_context or {}) | {"title": "Generate New API Key"}
        return super().add_view(request, form_url, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Every POST that would generate a key asks first: the add page's, and a change
        # page's "_saveasnew" (Django's admin adds with it even with save_as off).
        if request.method == "POST" and (object_id is None or "_saveasnew" in request.POST):
            asked = stepup.check_on_admin_site(request, self)
            if asked is not None:
                return asked
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_fields(self, request: HttpRequest, obj: ServiceApiKey | None = None):
        if obj is None:
            return ["service_name", "description", "expires_on"]
        return [
            "service_name",
            "key_id",
            "status_badge",
            "description",
            "expires_on",
            "created_at",
            "last_used_at",
            "revoked_at",
            "revoked_by",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: ServiceApiKey | None = None):
        return () if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            # Only the description can change after generation.
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: ServiceApiKey | None = None):
        # A key that was ever used stays, for its history.
        base = super().has_delete_permission(request, obj)
        return base and (obj is None or obj.last_used_at is None)

    def delete_model(self, request: HttpRequest, obj: ServiceApiKey) -> None:
        services.service_key_delete(key=obj, actor=request.user, ip_address=client_ip(request))

    def save_model(self, request, obj, form, change) -> None:
        if change:
            services.service_key_update(
                key=obj,
                description=form.cleaned_data["description"],
                actor=request.user,
                ip_address=client_ip(request),
            )
            return
        key, secret = services.service_key_create(
            service_name=form.cleaned_data["service_name"],
            description=form.cleaned_data["description"],
            expires_on=form.cleaned_data["expires_on"],
            actor=request.user,
            ip_address=client_ip(request),
        )
        form.instance = key
        obj.pk = key.pk
        request._keyward_secret = (key, secret)  # for response_add, this response only

    def response_add(self, request, obj, post_url_continue=None) -> HttpResponse:
        key, secret = request._keyward_secret
        context = self.admin_site.each_context(request) | {
            "opts": self.opts,
            "key": key,
            "secret": secret,
            "title": "API key generated",
            "changelist_url": reverse("admin:apikeys_serviceapikey_changelist"),
        }
        response = TemplateResponse(request, "admin/apikeys/serviceapikey/generated.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def get_urls(self):
        revoke = self.admin_site.admin_view(never_cache(self.revoke_view))
        return [
            path("<int:pk>/revoke/", revoke, name="apikeys_serviceapikey_revoke"),
            *super().get_urls(),
        ]

    def revoke_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        key = get_object_or_404(ServiceApiKey, pk=pk)
        if not self.has_change_permission(request, key):
            return HttpResponseRedirect(reverse("admin:index"))
        changelist = reverse("admin:apikeys_serviceapikey_changelist")
        if request.method == "POST":
            try:
                services.service_key_revoke(
                    key=key, actor=request.user, ip_address=client_ip(request)
                )
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.ERROR)
            else:
                self.message_user(request, f"The API key for {key.service_name} was revoked.")
            return HttpResponseRedirect(changelist)
        context = self.admin_site.each_context(request) | {
            "opts": self.opts,
            "key": key,
            "title": "Revoke Service API Key",
            "changelist_url": changelist,
        }
        return TemplateResponse(request, "admin/apikeys/serviceapikey/revoke.html", context)
