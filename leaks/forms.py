from django import forms

from apikeys.services import LEAK_NOTE_MAX, LEAK_SOURCE_MAX


class PublicReportForm(forms.Form):
    key = forms.CharField(
        label="The leaked key",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="The whole key, starting with kw_. It is checked and then forgotten: "
        "it is never stored or shown.",
        error_messages={"required": "Paste the key you found."},
    )
    url = forms.CharField(
        label="Where you found it",
        max_length=LEAK_SOURCE_MAX,
        required=False,
        help_text="Optional: the address of the page, repository or file.",
    )
    note = forms.CharField(
        label="Anything else",
        max_length=LEAK_NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Optional, at most {LEAK_NOTE_MAX:,} characters: passed on to the key's "
        "owner's tenant.",
    )
