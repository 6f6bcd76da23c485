from django import forms


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
