"""What django-axes counts failed sign-ins by (AXES_USERNAME_CALLABLE)."""

from django.http import HttpRequest

USERNAME_MAX = 254  # an email address; axes' column holds 255


def username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username tried, as axes stores it: without NUL or lone surrogates (which the
    database would refuse) and at most USERNAME_MAX characters, so no attempt is a 500."""
    source = credentials or getattr(request, "data", None) or request.POST
    value = source.get("username")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return value[:USERNAME_MAX]
