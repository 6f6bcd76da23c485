from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserChangeForm, UserCreationForm

from accounts.models import User


class SignInForm(AuthenticationForm):
    """Email and password; the error never says whether the email exists."""

    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": "The email or password is not correct.",
        "inactive": "The email or password is not correct.",
    }


class AdminUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class AdminUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "is_active", "is_staff", "is_superuser")


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "spellcheck": "false"}
        ),
    )


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        help_text="The 6-digit code the app shows for Keyward.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


class PasskeyNameForm(forms.Form):
    name = forms.CharField(label="Passkey name", max_length=64)

    def clean_name(self) -> str:
        from accounts.services import clean_passkey_name

        try:
            return clean_passkey_name(self.cleaned_data["name"])
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["name"]) from None
