"""The system admin site's pages for tenants and memberships. Every write goes through the
same services as the portal, so it is validated the same way, writes its event in the same
transaction and publishes what it changes to the API's workers."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from accounts import stepup
from accounts.admin import UserAdmin
from accounts.models import User
from tenants import services
from tenants.forms import bound_settings_numbers
from tenants.models import Event, Membership, Tenant, TenantSettings
from tenants.selectors import licenses_assigned
from web.http import client_ip

VIA = "system admin"


def _is_last_admin(membership: Membership) -> bool:
    return (
        membership.pk is not None
        and membership.is_admin
        and not Membership.objects.filter(tenant_id=membership.tenant_id, is_admin=True)
        .exclude(pk=membership.pk)
        .exists()
    )


class TenantSettingsInlineForm(forms.ModelForm):
    """The tenant's settings as the portal's Settings page states them: one range per number
    in the input's min and max, its help text and every error ("Enter a whole number from 1
    to 1,000."), never the model field's "≥ 0" then the validator's "≥ 1"."""

    class Meta:
        model = TenantSettings
        fields = (
            "api_keys_enabled",
            "max_expiration_days",
            "max_keys_per_user",
            "default_rate_limit",
            "leak_policy",
            "require_2fa_admins",
            "require_2fa_developers",
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bound_settings_numbers(self.fields)
        # A form posted without it keeps the tenant's leak policy (a new tenant: revoke).
        self.fields["leak_policy"].required = False

    def clean_leak_policy(self) -> str:
        return self.cleaned_data["leak_policy"] or self.instance.leak_policy


class TenantSettingsInline(admin.StackedInline):
    model = TenantSettings
    form = TenantSettingsInlineForm
    can_delete = False


class MembershipInlineForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "is_admin", "is_developer")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Another person is another membership: remove this one and add theirs. The
            # locked select offers no pencil, + or eye beside it either (they did nothing).
            user = self.fields["user"]
            user.disabled = True
            for offer in ("can_add_related", "can_change_related", "can_view_related"):
                if hasattr(user.widget, offer):
                    setattr(user.widget, offer, False)


class MembershipFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        had_admin = any(form.instance.pk and form.initial.get("is_admin") for form in self.forms)
        keeps_admin = any(
            form.cleaned_data.get("is_admin") and not form.cleaned_data.get("DELETE")
            for form in self.forms
            if form.cleaned_data
        )
        if had_admin and not keeps_admin:
            raise ValidationError(
                "A tenant keeps at least one admin: the last admin can be neither demoted "
                "nor removed."
            )


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    formset = MembershipFormSet
    extra = 1
    # Licences are assigned by the tenant's admins, on its Members page.
    readonly_fields = ("has_license",)
    autocomplete_fields = ("user",)


class TenantAdminForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ("name", "slug", "is_active", "user_licenses")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Left empty: none for a new tenant, unchanged for an existing one.
        self.fields["user_licenses"].required = False

    def clean_user_licenses(self) -> int:
        count = self.cleaned_data["user_licenses"]
        if count is None:
            return self.instance.user_licenses if self.instance.pk is not None else 0
        if self.instance.pk is not None:
            assigned = licenses_assigned(tenant=self.instance)
            if count < assigned:
                # The service refuses it too; said here, it is a field error, not a crash.
                raise ValidationError(
                    f"{assigned} licence{'s are' if assigned != 1 else ' is'} assigned in this "
                    f"tenant: keep at least {assigned}, or have a tenant admin unassign "
                    f"{assigned - count} on the Members page first."
                )
        return count


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    form = TenantAdminForm
    list_display = ("name", "slug", "is_active", "user_licenses", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (TenantSettingsInline, MembershipInline)
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Tenant | None = None):
        # The slug names the tenant in URLs, events and the system API.
        return ("slug",) if obj is not None else ()

    def get_prepopulated_fields(self, request: HttpRequest, obj: Tenant | None = None):
        return {} if obj is not None else self.prepopulated_fields

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        # A tenant keeps its history: deactivate it instead.
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Changing a tenant's key policy asks for a fresh second factor, as the portal's
        # Settings page does; renaming it or editing its members does not.
        if request.method == "POST" and self._changes_key_policy(request, object_id):
            asked = stepup.check_on_admin_site(request, self)
            if asked is not None:
                return asked
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _changes_key_policy(self, request: HttpRequest, object_id: str | None) -> bool:
        """Whether this POST would change the tenant's settings (for a new tenant: set them
        other than the defaults), read as the Settings inline will read it."""
        if "_saveasnew" in request.POST:
            object_id = None  # Django's admin adds a new tenant with it, even with save_as off
        tenant = self.get_object(request, unquote(object_id)) if object_id else None
        if object_id and tenant is None:
            return False  # Django's admin answers for a tenant that is not there
        inline = TenantSettingsInline(self.model, self.admin_site)
        prefix = inline.get_formset(request, tenant).get_default_prefix()
        policy = TenantSettings.objects.filter(tenant=tenant).first() if tenant else None
        form = TenantSettingsInlineForm(
            request.POST, prefix=f"{prefix}-0", instance=policy or TenantSettings()
        )
        return form.has_changed()

    def save_model(self, request: HttpRequest, obj: Tenant, form, change: bool) -> None:
        actor, ip = request.user, client_ip(request)
        if not change:
            tenant = services.tenant_create(
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                user_licenses=form.cleaned_data.get("user_licenses", 0),
                actor=actor,
                via=VIA,
            )
            if not form.cleaned_data.get("is_active", True):
                services.tenant_set_active(
                    tenant=tenant, active=False, actor=actor, ip_address=ip, via=VIA
                )
            obj.pk = tenant.pk
            obj.created_at = tenant.created_at
            obj.is_active = form.cleaned_data.get("is_active", True)
            obj.user_licenses = tenant.user_licenses
            return
        current = Tenant.objects.get(pk=obj.pk)
        if "name" in form.changed_data:
            services.tenant_rename(
                tenant=current, name=obj.name, actor=actor, ip_address=ip, via=VIA
            )
        if "is_active" in form.changed_data:
            services.tenant_set_active(
                tenant=current, active=obj.is_active, actor=actor, ip_address=ip, via=VIA
            )
        if "user_licenses" in form.changed_data:
            services.tenant_set_user_licenses(
                tenant=current, count=obj.user_licenses, actor=actor, ip_address=ip, via=VIA
            )

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        tenant, actor, ip = form.instance, request.user, client_ip(request)
        # What the admin's history message reads (Django's formset.save() would set these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is TenantSettings:
            for settings_form in formset.forms:
                if settings_form.has_changed() or not change:
                    values = {
                        field: settings_form.cleaned_data[field]
                        for field in services.SETTINGS_FIELDS
                        if field in settings_form.cleaned_data
                    }
                    policy = services.tenant_settings_update_by_system(
                        tenant=tenant, actor=actor, ip_address=ip, **values
                    )
                    if settings_form.changed_data:
                        formset.changed_objects.append((policy, settings_form.changed_data))
            return
        if formset.model is Membership:
            for membership_form in formset.forms:
                data = membership_form.cleaned_data
                if not data:
                    continue
                membership = membership_form.instance
                if membership.pk and data.get("DELETE"):
                    services.member_remove(membership=membership, actor=actor, ip_address=ip)
                    formset.deleted_objects.append(membership)
                elif membership.pk and membership_form.has_changed():
                    services.member_set_roles(
                        membership=membership,
                        is_admin=data["is_admin"],
                        is_developer=data["is_developer"],
                        actor=actor,
                        ip_address=ip,
                    )
                    formset.changed_objects.append((membership, membership_form.changed_data))
                elif not membership.pk and membership_form.has_changed() and data.get("user"):
                    added = services.member_add(
                        tenant=tenant,
                        email=data["user"].email,
                        is_admin=data["is_admin"],
                        is_developer=data["is_developer"],
                        actor=actor,
                        ip_address=ip,
                    )
                    formset.new_objects.append(added)
            return
        super().save_formset(request, form, formset, change)


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "tenant", "is_admin", "is_developer")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["user"].disabled = True
            self.fields["tenant"].disabled = True

    def clean(self):
        data = super().clean()
        if _is_last_admin(self.instance) and not data.get("is_admin"):
            raise ValidationError("The last admin of a tenant cannot lose the admin role.")
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ("user", "tenant", "is_admin", "is_developer", "has_license", "created_at")
    list_filter = ("tenant", "is_admin", "is_developer", "has_license")
    readonly_fields = ("has_license",)
    search_fields = ("user__email", "tenant__name", "tenant__slug")
    autocomplete_fields = ("user", "tenant")

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None):
        base = super().has_delete_permission(request, obj)
        return base and (obj is None or not _is_last_admin(obj))

    def save_model(self, request: HttpRequest, obj: Membership, form, change: bool) -> None:
        data, actor, ip = form.cleaned_data, request.user, client_ip(request)
        if change:
            services.member_set_roles(
                membership=Membership.objects.get(pk=obj.pk),
                is_admin=data["is_admin"],
                is_developer=data["is_developer"],
                actor=actor,
                ip_address=ip,
            )
            return
        added = services.member_add(
            tenant=data["tenant"],
            email=data["user"].email,
            is_admin=data["is_admin"],
            is_developer=data["is_developer"],
            actor=actor,
            ip_address=ip,
        )
        obj.pk, obj.created_at = added.pk, added.created_at

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.member_remove(membership=obj, actor=request.user, ip_address=client_ip(request))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        skipped = []
        for membership in queryset.select_related("user", "tenant"):
            try:
                self.delete_model(request, membership)
            except ValidationError:
                skipped.append(f"{membership.user.email} ({membership.tenant.slug})")
        if skipped:
            self.message_user(
                request,
                "Kept the last admin of their tenant: " + ", ".join(skipped) + ".",
                messages.WARNING,
            )


admin.site.unregister(User)


@admin.register(User)
class MemberAwareUserAdmin(UserAdmin):
    """Deleting a user removes their memberships through the service first: each writes its
    event and revokes the keys it gave (accounts knows nothing of tenants, so it lives here)."""

    # Deletion one by one, through delete_model: no bulk delete. The second-factor reset
    # (lost-factor recovery, accounts.admin) stays.
    actions = ["reset_second_factors"]

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict:
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        base = super().has_delete_permission(request, obj)
        # The last admin of a tenant stays, as in the portal: make someone else admin first.
        return base and (
            obj is None or not any(_is_last_admin(m) for m in obj.memberships.filter(is_admin=True))
        )

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        for membership in obj.memberships.select_related("tenant", "user"):
            services.member_remove(
                membership=membership, actor=request.user, ip_address=client_ip(request)
            )
        super().delete_model(request, obj)


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
