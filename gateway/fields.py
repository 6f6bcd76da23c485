"""Strict JSON field checks: a string is not a number, `"true"` is not a boolean.

Each returns the value or records a message in `errors` under the field's name.
"""

from datetime import date

from django.http import HttpRequest

from web.inputs import whole_number
from web.problems import invalid
from web.text import check_name

MISSING = object()
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 100
MAX_USAGE_DAYS = 366  # days a usage question or export may span
Errors = dict[str, list[str]]


def _fail(errors: Errors, name: str, message: str) -> object:
    errors.setdefault(name, []).append(message)
    return MISSING


def unknown_fields(data: dict, allowed: set[str], errors: Errors) -> None:
    for name in sorted(set(data) - allowed):
        _fail(errors, name, "Unknown field.")


def string(data: dict, name: str, errors: Errors, *, max_length: int, required: bool) -> object:
    if name not in data:
        return _fail(errors, name, "This field is required.") if required else MISSING
    value = data[name]
    if not isinstance(value, str):
        return _fail(errors, name, "Must be a string.")
    if len(value) > max_length:
        return _fail(errors, name, f"At most {max_length} characters.")
    if not plain_text(value):
        return _fail(errors, name, "Must be plain text (no NUL or lone surrogate characters).")
    value = value.strip()
    if required and not value:
        return _fail(errors, name, "Must not be empty.")
    return value


def name(data: dict, field: str, errors: Errors, *, max_length: int, required: bool) -> object:
    """A string that names something: plain text, no control or format characters, and at
    least one visible character (web.text.check_name)."""
    value = string(data, field, errors, max_length=max_length, required=required)
    if isinstance(value, str) and (message := check_name(value)) is not None:
        return _fail(errors, field, message)
    return value


def plain_text(value: str) -> bool:
    """No NUL and no lone surrogate: what PostgreSQL text (and UTF-8) can hold."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def choice(data: dict, name: str, errors: Errors, *, choices: list[str], required: bool) -> object:
    if name not in data:
        return _fail(errors, name, "This field is required.") if required else MISSING
    if data[name] not in choices:
        return _fail(errors, name, f"Must be one of: {', '.join(choices)}.")
    return data[name]


def integer(data: dict, name: str, errors: Errors, *, minimum: int, maximum: int) -> object:
    if name not in data:
        return _fail(errors, name, "This field is required.")
    value = data[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 12.0 is the integer 12
    if isinstance(value, bool) or not isinstance(value, int):
        return _fail(errors, name, "Must be an integer.")
    if not minimum <= value <= maximum:
        return _fail(errors, name, f"Must be between {minimum} and {maximum}.")
    return value


def boolean(data: dict, name: str, errors: Errors) -> object:
    if name not in data:
        return _fail(errors, name, "This field is required.")
    if not isinstance(data[name], bool):
        return _fail(errors, name, "Must be true or false.")
    return data[name]


def iso_date(value: object, name: str, errors: Errors) -> object:
    if not isinstance(value, str):
        return _fail(errors, name, "Must be a date, YYYY-MM-DD.")
    try:
        return (
            date.fromisoformat(value)
            if len(value) == 10
            else _fail(errors, name, "Must be a date, YYYY-MM-DD.")
        )
    except ValueError:
        return _fail(errors, name, "Must be a date, YYYY-MM-DD.")


def int_param(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    number = whole_number(request.GET.get(name, str(default)))
    if number is None or not 1 <= number <= maximum:
        raise invalid({name: [f"Must be a whole number from 1 to {maximum}."]})
    return number
