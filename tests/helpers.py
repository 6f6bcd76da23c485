from django.test import Client


def csrf_token_for(client: Client, url: str) -> str:
    """Load a page as a browser would and read the CSRF token it rendered."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return str(response.context["csrf_token"])


def htmx_headers(token: str | None = None) -> dict[str, str]:
    headers = {"HX-Request": "true"}
    if token:
        headers["X-CSRFToken"] = token
    return headers


def free_port() -> int:
    """A TCP port nothing listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The key of every authenticator app the tests give a user (an RFC 6238 test key).
TOTP_KEY_HEX = "3132333435363738393031323334353637383930"


def totp_code(key_hex: str = TOTP_KEY_HEX, *, at: float | None = None) -> str:
    """The code an authenticator app shows for `key_hex` now (or at `at`)."""
    import time

    return f"{_totp_at(key_hex, time.time() if at is None else at):06d}"


def _totp_at(key_hex: str, at: float) -> int:
    from django_otp.oath import TOTP

    generator = TOTP(bytes.fromhex(key_hex))
    generator.time = at
    return generator.token()


def with_verified_session(client: Client, user) -> Client:
    """After `force_login`: the session passed a second factor too (what the system admin
    site asks of a superuser), with an authenticator app given to `user` if they have none."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", key=TOTP_KEY_HEX, confirmed=True
        )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def passed_second_factor(client: Client, user) -> Client:
    """After `force_login`: the session passed the second factor `user` has, if any."""
    from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user

    device = next(iter(devices_for_user(user, confirmed=True)), None)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def admin_form_data(response) -> dict[str, str]:
    """What a browser would post back from an admin change page, unchanged."""
    data: dict[str, str] = {}

    def add(form) -> None:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif value is not None:
                data[form.add_prefix(name)] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for form in formset.initial_forms:
            add(form)
    return data
