"""Text hygiene (SECURITY.md 26): what a name may hold, and CSV cells a spreadsheet won't run.

One place for the rules, used by the services, the APIs, the import, forms and models."""

import unicodedata

from django.core.exceptions import ValidationError

# Joiners are format characters (Cf) that Persian, Indic scripts and emoji sequences need
# between visible characters; every other control or format character is refused.
ALLOWED_FORMAT = frozenset("\u200c\u200d")
# Letters and symbols that render as nothing: a name made of them looks empty.
INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800")
CONTROL_MESSAGE = "A name cannot contain control characters or text-direction overrides."
INVISIBLE_MESSAGE = "A name needs at least one visible character."


def check_name(text: str) -> str | None:
    """Why `text` cannot name something, or None if it can.

    Refused: control characters (Cc: NUL, tab, newline...), format characters (Cf: bidi
    overrides and isolates U+202A-U+202E, U+2066-U+2069, zero-width space, BOM...), line
    and paragraph separators, lone surrogates; and names with no visible character."""
    visible = False
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp") or (
            category == "Cf" and char not in ALLOWED_FORMAT
        ):
            return CONTROL_MESSAGE
        if category[0] in "LNPS" and char not in INVISIBLE:
            visible = True
    return None if visible else INVISIBLE_MESSAGE


def validate_name(value: str) -> None:
    """`check_name` as a Django validator (model and form fields)."""
    if (message := check_name(value)) is not None:
        raise ValidationError(message, code="invalid_name")


# OWASP "CSV injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """`value` as a CSV cell no spreadsheet runs: text that would start a formula gets a
    leading apostrophe. Numbers and booleans pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
