import re

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from tenants.models import TenantSettings


class WholeNumberField(forms.IntegerField):
    """An IntegerField that reads ASCII digits only (an optional minus sign, surrounding
    spaces): Python's int() also takes Arabic-Indic or fullwidth digits, "1_0" and "+10",
    and Django's own "10.0"."""

    ASCII_INTEGER = re.compile(r"-?[0-9]{1,18}")

    def to_python(self, value):
        if (
            isinstance(value, str)
            and value.strip()
            and not self.ASCII_INTEGER.fullmatch(value.strip())
        ):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def bounded_integer(
    low: int, high: int, *, message: str, help_text: str, **kwargs
) -> forms.IntegerField:
    """A whole number in one range, stated once: the input's min and max, its help text and
    every error it can give (not a number, too low, too high) say the same range."""
    messages = {"invalid": message, "min_value": message, "max_value": message}
    return WholeNumberField(
        min_value=low,
        max_value=high,
        error_messages=messages,
        help_text=help_text,
        **kwargs,
    )


# What each bounded setting's help text says after its range.
SETTINGS_HELP = {
    "max_expiration_days": "days (ten years at most). Applies to new keys only. "
    "Leave empty for no maximum.",
    "max_keys_per_user": "keys. Creating a key beyond it is refused.",
    "default_rate_limit": "requests per minute, for new keys.",
}


def bound_settings_numbers(fields: dict[str, forms.Field]) -> None:
    """One range per settings number, the model's validators (what the server enforces): the
    same in the input's min and max, the help text and every error message. The portal's
    Settings page and the system admin site's tenant page say it alike."""
    for name, suffix in SETTINGS_HELP.items():
        if name not in fields:
            continue
        validators = TenantSettings._meta.get_field(name).validators
        low = next(v.limit_value for v in validators if isinstance(v, MinValueValidator))
        high = next(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
        fields[name] = bounded_integer(
            low,
            high,
            label=fields[name].label,
            required=fields[name].required,
            message=f"Enter a whole number from {low:,} to {high:,}.",
            help_text=f"From {low:,} to {high:,} {suffix}",
        )


class MemberAddForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    is_admin = forms.BooleanField(label="Admin", required=False)
    is_developer = forms.BooleanField(label="Developer", required=False)


class MemberRolesForm(forms.Form):
    is_admin = forms.BooleanField(
        label="Admin",
        required=False,
        help_text="Manages members, settings and every key of the tenant.",
    )
    is_developer = forms.BooleanField(
        label="Developer", required=False, help_text="Creates and manages their own API keys."
    )


class MemberLicenseForm(forms.Form):
    licensed = forms.TypedChoiceField(
        choices=[("1", "Assign"), ("0", "Unassign")], coerce=lambda value: value == "1"
    )


class EventSearchForm(forms.Form):
    q = forms.CharField(label="Search events", max_length=200, required=False)
