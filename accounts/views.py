"""Sign-in in two steps, and the pages that set up and remove second factors.

Step one is Django's LoginView with the email and password (axes counts failures); for an
account with a second factor it does not sign in but remembers, in the session, who passed
the password and when. Step two takes a TOTP code, a recovery code or a passkey; only then
is the user signed in (`login`) and the session marked verified (django-otp). Every wrong
second factor is reported to axes as a failed sign-in, so the password's limits hold.
"""

import base64
import json
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, user_logged_in
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts import services, sessions, stepup, throttling, two_factor
from accounts.forms import PasskeyNameForm, SecondFactorForm, SignInForm, TotpConfirmForm
from accounts.models import Passkey, User
from web.http import client_ip
from web.inputs import whole_number

PENDING_SESSION_KEY = "second_factor_pending"
TOTP_SETUP_SESSION_KEY = "totp_setup_key"
REVERIFY_NEXT_SESSION_KEY = "second_factor_next"


def _no_store(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store"
    return response


class SignInView(auth_views.LoginView):
    """Email and password; with a second factor on the account, on to the second step."""

    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: SignInForm) -> HttpResponse:
        user = form.get_user()
        if not two_factor.user_has_second_factor(user):
            return super().form_valid(form)
        # Not signed in yet: a fresh session key, and who passed the password.
        self.request.session.cycle_key()
        self.request.session[PENDING_SESSION_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "hash": user.get_session_auth_hash(),
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("second_factor")


def _pending_user(request: HttpRequest) -> tuple[User, dict] | None:
    """Who passed the password in this session, if it was recently and nothing changed."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    timeout = settings.SECOND_FACTOR_TIMEOUT.total_seconds()
    if time.time() - float(pending.get("at", 0)) > timeout:
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None or user.get_session_auth_hash() != pending.get("hash"):
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    return user, pending


def _who_verifies(request: HttpRequest) -> tuple[User, dict] | None:
    """The user of the second step: one who passed the password, or one signed in whose
    session is not verified yet (a system admin reaching the system site)."""
    found = _pending_user(request)
    if found is not None:
        return found
    user = request.user
    if two_factor.owes_second_step(user):
        wanted = request.GET.get("next", "")
        if wanted and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            request.session[REVERIFY_NEXT_SESSION_KEY] = wanted
        default = reverse(settings.LOGIN_REDIRECT_URL)
        return user, {"next": request.session.get(REVERIFY_NEXT_SESSION_KEY) or default}
    return None


def _credentials(user: User) -> dict[str, str]:
    return {"username": user.email}


def _locked(request: HttpRequest, user: User) -> HttpResponse | None:
    credentials = _credentials(user)
    if AxesProxyHandler.is_locked(request, credentials):
        return get_lockout_response(request, None, credentials)
    return None


def _complete(request: HttpRequest, user: User, pending: dict, device: Device) -> str:
    """Sign in (if only the password was passed) and mark the session verified by `device`."""
    if request.user.is_authenticated and request.user.pk == user.pk:
        request.session.pop(REVERIFY_NEXT_SESSION_KEY, None)
        request.session.cycle_key()
        user_logged_in.send(sender=user.__class__, request=request, user=user)
    else:
        request.session.pop(PENDING_SESSION_KEY, None)
        login(request, user, backend=pending.get("backend") or settings.AUTHENTICATION_BACKENDS[-1])
    otp_login(request, device)
    return pending.get("next") or reverse(settings.LOGIN_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """Step two: a code from the authenticator app, a recovery code, or a passkey."""
    found = _who_verifies(request)
    if found is None:
        return redirect("login")
    user, pending = found
    if refused := _locked(request, user):
        return refused
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with throttling.one_attempt_at_a_time(user):
            if refused := _locked(request, user):
                return refused
            device = two_factor.match_second_factor_code(user, form.cleaned_data["code"])
            if device is not None:
                return redirect(_complete(request, user, pending, device))
            throttling.count_failure(request, user)
            refused = _locked(request, user)
        if refused:
            return refused
        form.add_error("code", "That code is not correct.")
    context = {
        "form": form,
        "has_passkey": Passkey.objects.filter(user=user, confirmed=True).exists(),
        "has_app": two_factor.confirmed_totp(user) is not None,
    }
    status = 400 if request.method == "POST" else 200
    return _no_store(render(request, "registration/second_factor.html", context, status=status))


@require_POST
def second_factor_passkey_options(request: HttpRequest) -> HttpResponse:
    found = _who_verifies(request)
    if found is None:
        return JsonResponse({"error": "Sign in again."}, status=400)
    user, _ = found
    if _locked(request, user):
        return JsonResponse({"error": "Too many failed sign-in attempts."}, status=429)
    try:
        options = two_factor.passkey_authentication_options(request, user)
    except two_factor.PasskeyError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return _no_store(HttpResponse(options, content_type="application/json"))


@require_POST
def second_factor_passkey(request: HttpRequest) -> HttpResponse:
    found = _who_verifies(request)
    if found is None:
        return JsonResponse({"error": "Sign in again."}, status=400)
    user, pending = found
    with throttling.one_attempt_at_a_time(user):
        if _locked(request, user):
            return JsonResponse({"error": "Too many failed sign-in attempts."}, status=429)
        try:
            passkey = two_factor.verify_passkey(request, user, request.body)
        except two_factor.PasskeyError as exc:
            throttling.count_failure(request, user)
            # Answered here, as JSON (axes' middleware would answer a lock-out with its page).
            locked = getattr(request, "axes_locked_out", False)
            request.axes_locked_out = False
            if locked:
                return JsonResponse({"error": "Too many failed sign-in attempts."}, status=429)
            return JsonResponse({"error": str(exc)}, status=400)
        redirect_to = _complete(request, user, pending, passkey)
    return _no_store(JsonResponse({"redirect": redirect_to}))


# The set-up pages ---------------------------------------------------------------------------


NOT_VERIFIED = "Confirm it's you with your second factor first: reload this page."


def _factor_passed(*, json: bool = False) -> Callable:
    """For the pages that change a user's factors: a user who has a second factor changes
    them only from a session that passed it. A session signed in before a factor was set up
    elsewhere is sent to the second step first (as JSON, a 403 for the passkey's script)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if two_factor.owes_second_step(request.user):
                if json:
                    return JsonResponse({"error": NOT_VERIFIED}, status=403)
                return redirect(
                    f"{reverse('second_factor')}?{urlencode({'next': reverse('two_factor')})}"
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _overview_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "totp": two_factor.confirmed_totp(user),
        "passkeys": list(Passkey.objects.filter(user=user, confirmed=True)),
        "recovery_left": two_factor.recovery_codes_left(user),
        "has_factor": two_factor.user_has_second_factor(user),
        "required_by": _required_by(request),
    }


def _required_by(request: HttpRequest) -> bool:
    """Whether a tenant's policy sent the user here (tenants.access adds `required`)."""
    return bool(request.GET.get("required"))


@require_http_methods(["GET"])
@login_required
@_factor_passed()
@stepup.fresh_page()
def two_factor_overview(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/two_factor.html", _overview_context(request))


def _totp_uri(request: HttpRequest, key_hex: str) -> tuple[str, str]:
    device = TOTPDevice(user=request.user, key=key_hex, name="Authenticator app")
    return device.config_url, _base32(device.bin_key)


def _base32(raw: bytes) -> str:
    text = base64.b32encode(raw).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@require_http_methods(["GET", "POST"])
@login_required
@_factor_passed()
@stepup.fresh_page()
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the key), then confirm with a code the app shows. The key
    waits in the session until confirmed; nothing is stored before."""
    key_hex = request.session.get(TOTP_SETUP_SESSION_KEY)
    if not isinstance(key_hex, str) or len(key_hex) != 40:
        key_hex = random_hex(20)
        request.session[TOTP_SETUP_SESSION_KEY] = key_hex
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_confirm(
                user=request.user,
                key_hex=key_hex,
                code=form.cleaned_data["code"],
                ip_address=client_ip(request),
                session_key=request.session.session_key,
            )
        except ValidationError as exc:
            form.add_error("code", exc.messages)
        else:
            request.session.pop(TOTP_SETUP_SESSION_KEY, None)
            device = two_factor.confirmed_totp(request.user)
            if device is not None:
                otp_login(request, device)
            messages.success(request, "Your authenticator app is set up.")
            if codes:
                return _recovery_codes_page(request, codes)
            return redirect("two_factor")
    uri, manual = _totp_uri(request, key_hex)
    context = {
        "form": form,
        "qr": segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
        "manual_key": manual,
        "replacing": two_factor.confirmed_totp(request.user) is not None,
    }
    status = 400 if request.method == "POST" else 200
    return _no_store(render(request, "accounts/totp_setup.html", context, status=status))


@require_http_methods(["GET", "POST"])
@login_required
@_factor_passed()
@stepup.fresh_page()
def totp_remove(request: HttpRequest) -> HttpResponse:
    if two_factor.confirmed_totp(request.user) is None:
        raise Http404("No authenticator app")
    if request.method == "POST":
        services.totp_remove(user=request.user, ip_address=client_ip(request))
        messages.success(request, "The authenticator app was removed.")
        return redirect("two_factor")
    return render(request, "accounts/totp_remove.html")


def _recovery_codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    context = {"codes": codes, "codes_text": "\n".join(codes)}
    return _no_store(render(request, "accounts/recovery_codes.html", context))


@require_http_methods(["GET", "POST"])
@login_required
@_factor_passed()
@stepup.fresh_page()
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Ten new recovery codes, shown once in the answer to the POST."""
    if not two_factor.user_has_second_factor(request.user):
        return redirect("two_factor")
    if request.method == "POST":
        codes = services.recovery_codes_regenerate(user=request.user, ip_address=client_ip(request))
        return _recovery_codes_page(request, codes)
    return render(
        request,
        "accounts/recovery_codes_confirm.html",
        {"recovery_left": two_factor.recovery_codes_left(request.user)},
    )


@require_POST
@login_required
@_factor_passed(json=True)
@stepup.fresh_page(json=True)
def passkey_register_options(request: HttpRequest) -> HttpResponse:
    try:
        options = two_factor.passkey_registration_options(request, request.user)
    except two_factor.PasskeyError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return _no_store(HttpResponse(options, content_type="application/json"))


@require_POST
@login_required
@_factor_passed(json=True)
@stepup.fresh_page(json=True)
def passkey_register(request: HttpRequest) -> HttpResponse:
    """The browser's new credential and its name (JSON: {"name", "credential"})."""
    if len(request.body) > two_factor.PASSKEY_RESPONSE_MAX:
        return JsonResponse({"error": "The passkey's answer is too large."}, status=400)
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return JsonResponse({"error": "The passkey's answer is not valid."}, status=400)
    form = PasskeyNameForm({"name": body.get("name")})
    if not form.is_valid():
        return JsonResponse({"error": form.errors["name"][0], "field": "name"}, status=400)
    credential = body.get("credential")
    try:
        new = two_factor.verify_passkey_registration(request, json.dumps(credential))
        passkey = services.passkey_add(
            user=request.user,
            new=new,
            name=form.cleaned_data["name"],
            ip_address=client_ip(request),
            session_key=request.session.session_key,
        )
    except two_factor.PasskeyError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0], "field": "name"}, status=400)
    if not request.user.is_verified():
        otp_login(request, passkey)
    messages.success(request, f"The passkey {passkey.name} was added.")
    return JsonResponse({"redirect": reverse("two_factor")})


@require_http_methods(["GET", "POST"])
@login_required
@_factor_passed()
@stepup.fresh_page()
def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    passkey = Passkey.objects.filter(user=request.user, pk=passkey_id).first()
    if passkey is None:
        raise Http404("No such passkey")
    if request.method == "POST":
        services.passkey_remove(
            user=request.user, passkey_id=passkey.pk, ip_address=client_ip(request)
        )
        messages.success(request, f"The passkey {passkey.name} was removed.")
        return redirect("two_factor")
    return render(request, "accounts/passkey_remove.html", {"passkey": passkey})


# Sessions (the profile's list) and password changes that end the other sessions.


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page the form was on (the profile), when it is one of ours."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if safe and target.startswith("/") else "home")


@require_POST
@login_required
def session_sign_out(request: HttpRequest, session_id: str) -> HttpResponse:
    """Sign out one other session of the signed-in user (this one signs out with Sign out)."""
    number = whole_number(session_id)
    if number is None or not sessions.end_session(
        request.user, session_id=number, keep_session_key=request.session.session_key
    ):
        raise Http404("No such session")
    messages.success(request, "That session was signed out.")
    return _back(request)


@require_POST
@login_required
def sessions_sign_out_others(request: HttpRequest) -> HttpResponse:
    count = sessions.end_sessions(request.user, keep_session_key=request.session.session_key)
    messages.success(request, f"{count} other session{'s' if count != 1 else ''} signed out.")
    return _back(request)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's, and then every other session of the user is signed out; this one stays."""

    def form_valid(self, form):
        response = super().form_valid(form)  # update_session_auth_hash gives a new key
        sessions.follow_key(self.request)
        sessions.end_sessions(form.user, keep_session_key=self.request.session.session_key)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's, and then every session of the user is signed out (a lost password)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        sessions.end_sessions(form.user)
        return response
