"""Step-up ("sudo mode"): a fresh proof of identity before an action that mints a secret or
changes the key policy (Stripe before a key is revealed, GitHub's sudo mode).

A proof is fresh for STEP_UP_SECONDS from the moment it was given: a sign-in or a step-up.
The proof is the user's second factor when one is registered and the user has it set up (a
code from an authenticator app or a recovery code, or a passkey), otherwise the password: a
user with a second factor is never asked for the password alone. Every proof is throttled by
django-axes as a sign-in attempt for the same account and address: wrong codes and refused
passkeys lock the account out as wrong passwords do.

A passkey is asked in two steps: the dialog's button fetches the options
(`passkey_options`, whose challenge waits in the session), the browser signs them, and the
answer is posted with the action's form in PASSKEY_FIELD, so that it too continues the action
in the same request.

A protected view calls `check(request)` on the POST that would act: None means go on (the
session is fresh, or this very POST carried a right proof); otherwise it answers with the
"Confirm it's you" form, which carries the original form's fields and posts them back.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST

from accounts import throttling
from accounts.models import User

STEP_UP_SECONDS = 600
SESSION_KEY = "_stepup_at"
PASSWORD_FIELD = "stepup_password"
CODE_FIELD = "stepup_code"
PASSKEY_FIELD = "stepup_passkey"
DIALOG_TEMPLATE = "accounts/step_up.html"
ADMIN_TEMPLATE = "admin/step_up.html"
# What the confirmation never carries back: the token is rendered afresh, the proofs never.
NOT_CARRIED = frozenset({"csrfmiddlewaretoken", PASSWORD_FIELD, CODE_FIELD, PASSKEY_FIELD})

WRONG_PASSWORD = "The password is not correct."
WRONG_CODE = "The code is not correct."
WRONG_PASSKEY = "The passkey was not accepted. Try again, or use another of your passkeys."
LOCKED_OUT = "Too many failed attempts. Try again later."


@dataclass(frozen=True, slots=True)
class SecondFactor:
    has_factor: Callable[[User], bool]
    verify_code: Callable[[User, str], bool]
    has_passkey: Callable[[User], bool] | None = None
    # The request options (JSON) for one of the user's passkeys; the challenge in the session.
    passkey_options: Callable[[HttpRequest, User], str] | None = None
    # Whether the posted answer is one of the user's passkeys signing that challenge.
    verify_passkey: Callable[[HttpRequest, User, str], bool] | None = None


# The one pluggable point: how a user with a second factor proves themselves.
second_factor: SecondFactor | None = None


def register_second_factor(
    has_factor: Callable[[User], bool],
    verify_code: Callable[[User, str], bool],
    *,
    has_passkey: Callable[[User], bool] | None = None,
    passkey_options: Callable[[HttpRequest, User], str] | None = None,
    verify_passkey: Callable[[HttpRequest, User, str], bool] | None = None,
) -> None:
    """Ask users for whom `has_factor(user)` is true for a code, checked by `verify_code`, and
    offer users for whom `has_passkey(user)` is true their passkey."""
    passkeys = (has_passkey, passkey_options, verify_passkey)
    if any(passkeys) and not all(passkeys):
        raise ValueError("A passkey needs all three: has_passkey, passkey_options, verify_passkey")
    global second_factor
    second_factor = SecondFactor(
        has_factor=has_factor,
        verify_code=verify_code,
        has_passkey=has_passkey,
        passkey_options=passkey_options,
        verify_passkey=verify_passkey,
    )


def unregister_second_factor() -> None:
    global second_factor
    second_factor = None


def is_fresh(request: HttpRequest) -> bool:
    at = request.session.get(SESSION_KEY)
    if not isinstance(at, int):
        return False
    return 0 <= time.time() - at <= STEP_UP_SECONDS


def mark_fresh(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = int(time.time())


@receiver(user_logged_in, dispatch_uid="stepup-sign-in-is-fresh")
def _sign_in_is_fresh(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        mark_fresh(request)


def asks_for_code(user: User) -> bool:
    return second_factor is not None and bool(second_factor.has_factor(user))


def offers_passkey(user: User) -> bool:
    return (
        second_factor is not None
        and second_factor.has_passkey is not None
        and bool(second_factor.has_passkey(user))
    )


class PasswordProofForm(forms.Form):
    stepup_password = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class CodeProofForm(forms.Form):
    stepup_code = forms.CharField(
        label="Authentication code",
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _proved(request: HttpRequest, user: User, form: forms.Form, code: bool) -> bool:
    if code:
        assert second_factor is not None
        if second_factor.verify_code(user, form.cleaned_data[CODE_FIELD]):
            return True
        throttling.count_failure(request, user)
        return False
    # A wrong password is counted by axes' own authentication backend.
    proved = authenticate(request, username=user.email, password=form.cleaned_data[PASSWORD_FIELD])
    return proved is not None and proved.pk == user.pk


def _passkey_proved(request: HttpRequest, user: User, answer: str) -> bool:
    assert second_factor is not None and second_factor.verify_passkey is not None
    if second_factor.verify_passkey(request, user, answer):
        return True
    throttling.count_failure(request, user)
    return False


def _refusal(
    request: HttpRequest, user: User, proves: Callable[[], bool], wrong: str
) -> str | None:
    """None when the proof holds; otherwise what the dialog says: `wrong`, or that the account
    is locked out (before the proof is even tried, or by this failure)."""
    credentials = {"username": user.email}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return LOCKED_OUT
    if proves():
        return None
    return wrong if AxesProxyHandler.is_allowed(request, credentials) else LOCKED_OUT


def check(
    request: HttpRequest,
    *,
    template: str = DIALOG_TEMPLATE,
    context: dict | None = None,
    passkey_options_url: str | None = None,
    carry: tuple[tuple[str, str], ...] = (),
) -> HttpResponse | None:
    """None when the action may go on; otherwise the "Confirm it's you" answer, which posts
    back the request's own fields and `carry`."""
    if is_fresh(request):
        return None
    user = request.user
    code = asks_for_code(user)
    passkey = offers_passkey(user)
    # What can be typed: a code for a user with one, the password for a user with no second
    # factor, nothing for a user whose only factor is a passkey.
    field = CODE_FIELD if code else None if passkey else PASSWORD_FIELD
    form_class = CodeProofForm if code else PasswordProofForm
    answer = request.POST.get(PASSKEY_FIELD, "") if passkey else ""
    typed = field is not None and field in request.POST and not answer
    form = form_class(request.POST if typed else None)
    passkey_error = None
    if answer or (form.is_bound and form.is_valid()):
        # One proof at a time per account, so that axes counts each failure before the next.
        with throttling.one_attempt_at_a_time(user):
            if answer:
                refusal = _refusal(
                    request, user, lambda: _passkey_proved(request, user, answer), WRONG_PASSKEY
                )
            else:
                wrong = WRONG_CODE if code else WRONG_PASSWORD
                refusal = _refusal(request, user, lambda: _proved(request, user, form, code), wrong)
        if refusal is None:
            mark_fresh(request)
            return None
        if answer:
            passkey_error = refusal
        else:
            form.add_error(field, refusal)
        # The dialog says it is locked out itself: axes' own page would replace it whole.
        request.axes_locked_out = False
    carried = [
        (name, value)
        for name in request.POST
        if name not in NOT_CARRIED
        for value in request.POST.getlist(name)
    ]
    carried += [pair for pair in carry if pair[0] not in request.POST]
    page = {
        "form": form,
        "field": form[field] if field else None,
        "carried": carried,
        "code": code,
        "passkey": passkey,
        "passkey_error": passkey_error,
        "passkey_field": PASSKEY_FIELD,
        "passkey_options_url": passkey_options_url or reverse("step_up_passkey_options"),
    }
    page |= {"minutes": STEP_UP_SECONDS // 60, "title": "Confirm it's you"}
    return render(request, template, (context or {}) | page)


NOT_FRESH = "Confirm it's you first: reload this page."


def fresh_page(*, json: bool = False) -> Callable:
    """For the pages that change a user's second factors (GitHub's sudo mode for security
    settings): opening one while the last proof is older than the window goes through
    "Confirm it's you" (`confirm_page`) first. A POST from a page opened while fresh is asked
    inline and carried on, as the key dialogs are; a JSON endpoint (`json`) answers 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if is_fresh(request):
                return view(request, *args, **kwargs)
            if json:
                return JsonResponse({"error": NOT_FRESH}, status=403)
            if request.method == "POST":
                asked = check(request)
                return asked if asked is not None else view(request, *args, **kwargs)
            return redirect(f"{reverse('step_up')}?{urlencode({'next': request.get_full_path()})}")

        return wrapper

    return decorator


@require_http_methods(["GET", "POST"])
@login_required
def confirm_page(request: HttpRequest) -> HttpResponse:
    """The "Confirm it's you" page of its own, then on to `next` (a page of this site)."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if (
        not wanted.startswith("/")
        or not wanted.isascii()
        or any(ord(c) < 32 or ord(c) == 127 for c in wanted)
        or not url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        # Only a path of this site, and one that fits a header as it is (HX-Redirect).
        wanted = reverse("home")
    context = {"cancel_url": reverse("home")}
    asked = check(request, context=context, carry=(("next", wanted),))
    if asked is None:
        if request.headers.get("HX-Request") == "true":
            # The dialog's form posts through HTMX: the whole page goes on, not the dialog.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = wanted
            return response
        return HttpResponseRedirect(wanted)  # a path: never taken for a view's name
    add_never_cache_headers(asked)
    return asked


def check_on_admin_site(request: HttpRequest, model_admin) -> HttpResponse | None:
    """`check` on the system admin site, for one of `model_admin`'s pages: a page of its own,
    the passkey's options its own."""
    context = model_admin.admin_site.each_context(request) | {"opts": model_admin.opts}
    return check(
        request,
        template=ADMIN_TEMPLATE,
        context=context,
        passkey_options_url=reverse("admin:step_up_passkey_options"),
    )


@require_POST
def passkey_options(request: HttpRequest) -> HttpResponse:
    """The options for confirming with one of the signed-in user's passkeys (JSON)."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"error": "Sign in again."}, status=403)
    if not offers_passkey(user):
        return JsonResponse({"error": "You have no passkey."}, status=400)
    if not AxesProxyHandler.is_allowed(request, {"username": user.email}):
        return JsonResponse({"error": LOCKED_OUT}, status=429)
    assert second_factor is not None and second_factor.passkey_options is not None
    try:
        options = second_factor.passkey_options(request, user)
    except ValueError as exc:  # the factor's own refusal (a passkey on an IP address)
        return JsonResponse({"error": str(exc)}, status=400)
    response = HttpResponse(options, content_type="application/json")
    add_never_cache_headers(response)
    return response
