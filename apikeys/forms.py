from datetime import date, timedelta

from django import forms
from django.utils import timezone

from apikeys import services
from apikeys.models import MAX_RATE_LIMIT, Environment, Scope, today
from tenants.forms import bound_settings_numbers, bounded_integer
from tenants.models import TenantSettings
from web.networks import NetworksField


class DateInput(forms.DateInput):
    input_type = "date"


def rate_limit_field() -> forms.IntegerField:
    """A key's rate limit, on create and on edit: the service's range and its message."""
    return bounded_integer(
        1,
        MAX_RATE_LIMIT,
        label="Rate limit (requests per minute)",
        message=services.RATE_LIMIT_MESSAGE,
        help_text=f"From 1 to {MAX_RATE_LIMIT:,} requests per minute.",
    )


def apply_expiry_rule(
    field: forms.DateField, policy: TenantSettings, *, default: date | None
) -> None:
    """Show `services.expiry_error`'s rule on a key's expiry field (create and renew alike):
    the date picker's min and max, required with the service's own message when the tenant
    has a maximum, and help text naming the last allowed day. `default` is the initial date
    without a maximum (with one: 90 days ahead at most, never past the maximum)."""
    field.widget.attrs["min"] = (today() + timedelta(days=1)).isoformat()
    if policy.max_expiration_days:
        latest = today() + timedelta(days=policy.max_expiration_days)
        field.required = True
        field.error_messages["required"] = services.expiry_error(policy, None)
        field.initial = min(latest, today() + timedelta(days=90))
        field.widget.attrs["max"] = latest.isoformat()
        field.help_text = (
            f"The last day the key works: at most {policy.max_expiration_days} days ahead "
            f"(until {latest:%Y-%m-%d})."
        )
    else:
        field.initial = default
        field.help_text = "The last day the key works. Leave empty for a key that never expires."


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text='For example "Main Website Integration".'
    )
    description = forms.CharField(
        label="Description",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, at most 1000 characters.",
    )
    environment = forms.ChoiceField(
        label="Environment", choices=Environment.choices, initial=Environment.PRODUCTION
    )
    scopes = forms.MultipleChoiceField(
        label="Permissions",
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one permission."},
    )
    rate_limit = rate_limit_field()
    expires_on = forms.DateField(label="Expires on", required=False, widget=DateInput)
    customer_scope = forms.CharField(
        label="Limit to customers",
        required=False,
        max_length=2000,
        help_text="Optional: customer IDs (cus_…) separated by commas. Empty: every customer "
        "of the key's environment.",
    )
    allowed_networks = NetworksField(label="Network allowlist")

    def clean_customer_scope(self) -> list[str]:
        raw = self.cleaned_data["customer_scope"].replace("\n", ",")
        return [part.strip() for part in raw.split(",") if part.strip()]

    def clean(self) -> dict:
        """The service's checks of every field the form could read, so that all field errors
        show at once (a too-long description no longer hides a past expiry date)."""
        data = super().clean()
        errors = services.api_key_field_errors(
            tenant=self.policy.tenant,
            policy=self.policy,
            name=data.get("name", ""),
            description=data.get("description", ""),
            environment=data.get("environment", ""),
            scopes=data.get("scopes", ()),
            rate_limit=data.get("rate_limit") or self.policy.default_rate_limit,
            expires_on=data.get("expires_on"),
            customer_scope=data.get("customer_scope", ()),
            allowed_networks=data.get("allowed_networks", ()),
        )
        for field, message in errors.items():
            if field not in self.errors:
                self.add_error(field, message)
        return data

    def __init__(self, *args, policy: TenantSettings, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.fields["rate_limit"].initial = policy.default_rate_limit
        self.fields["allowed_networks"].initial = policy.default_allowed_networks
        apply_expiry_rule(self.fields["expires_on"], policy, default=None)


class ApiKeyEditForm(forms.Form):
    """A key's settings that its owner can change later: name, description, rate limit and
    network allowlist."""

    name = forms.CharField(label="Name", max_length=100)
    description = forms.CharField(
        label="Description",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    rate_limit = rate_limit_field()
    allowed_networks = NetworksField(label="Network allowlist")


GRACE_CHOICES = [
    ("1h", "1 hour"),
    ("24h", "24 hours"),
    ("3d", "3 days"),
    ("7d", "7 days"),
]
GRACE = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
}


class ApiKeyRollForm(forms.Form):
    grace = forms.ChoiceField(
        label="Keep the current key working for",
        choices=GRACE_CHOICES,
        initial="24h",
        widget=forms.RadioSelect,
    )

    def old_valid_until(self):
        return timezone.now() + GRACE[self.cleaned_data["grace"]]


class ApiKeyRenewForm(forms.Form):
    """An expired key's new expiry date, within the tenant's maximum (as on create)."""

    expires_on = forms.DateField(label="New expiry date", required=False, widget=DateInput)

    def __init__(self, *args, policy: TenantSettings, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        apply_expiry_rule(self.fields["expires_on"], policy, default=today() + timedelta(days=90))


class TenantSettingsForm(forms.ModelForm):
    default_allowed_networks = NetworksField(
        label="Default network allowlist",
        help_text=NetworksField.default_help_text.replace("Empty: any address.", "")
        + "New keys start with these ranges. Empty: new keys work from any address.",
    )

    class Meta:
        model = TenantSettings
        fields = [
            "api_keys_enabled",
            "max_expiration_days",
            "max_keys_per_user",
            "default_rate_limit",
            "leak_policy",
            "require_2fa_admins",
            "require_2fa_developers",
            "default_allowed_networks",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bound_settings_numbers(self.fields)
        # A form posted without it (an older page) keeps the tenant's leak policy.
        self.fields["leak_policy"].required = False

    def clean_leak_policy(self) -> str:
        return self.cleaned_data["leak_policy"] or self.instance.leak_policy


STATUS_FILTERS = [
    ("", "Any status"),
    ("2xx", "Success (2xx)"),
    ("4xx", "Client errors (4xx)"),
    ("401", "401 Unauthorized"),
    ("403", "403 Forbidden"),
    ("404", "404 Not found"),
    ("422", "422 Invalid fields"),
    ("429", "429 Too many requests"),
    ("5xx", "Server errors (5xx)"),
]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class RequestLogFilterForm(forms.Form):
    key = forms.CharField(label="Key ID", max_length=16, required=False)
    status = forms.ChoiceField(label="Status", choices=STATUS_FILTERS, required=False)
    since = forms.DateTimeField(label="From (UTC)", required=False, widget=DateTimeInput)
    until = forms.DateTimeField(label="To (UTC)", required=False, widget=DateTimeInput)

    def apply(self, logs):
        if not self.is_valid():
            return logs
        data = self.cleaned_data
        if data["key"]:
            logs = logs.filter(key_id=data["key"].strip())
        status = data["status"]
        if status.endswith("xx"):
            low = int(status[0]) * 100
            logs = logs.filter(status__gte=low, status__lt=low + 100)
        elif status:
            logs = logs.filter(status=int(status))
        if data["since"]:
            logs = logs.filter(created_at__gte=data["since"])
        if data["until"]:
            logs = logs.filter(created_at__lte=data["until"])
        return logs
