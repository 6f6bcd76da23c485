"""Step-up ("sudo mode"): a fresh proof of identity before an action that mints a secret or
changes the key policy (Stripe before a key is revealed, GitHub's sudo mode).

A proof is fresh for STEP_UP_SECONDS from the moment it was given: a sign-in or a step-up.
The proof is the user's second factor when one is registered and the user has it set up,
otherwise the password. Both are throttled by django-axes as sign-in attempts for the same
account and address: wrong proofs lock the account out as wrong passwords do.

A protected view calls `check(request)` on the POST that would act: None means go on (the
session is fresh, or this very POST carried a right proof); otherwise it answers with the
"Confirm it's you" form, which carries the original form's fields and posts them back.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User

STEP_UP_SECONDS = 600
SESSION_KEY = "_stepup_at"
PASSWORD_FIELD = "stepup_password"
CODE_FIELD = "stepup_code"
DIALOG_TEMPLATE = "accounts/step_up.html"
ADMIN_TEMPLATE = "admin/step_up.html"
# What the confirmation never carries back: the token is rendered afresh, the proofs never.
NOT_CARRIED = frozenset({"csrfmiddlewaretoken", PASSWORD_FIELD, CODE_FIELD})

WRONG_PASSWORD = "The password is not correct."
WRONG_CODE = "The code is not correct."
LOCKED_OUT = "Too many failed attempts. Try again later."


@dataclass(frozen=True, slots=True)
class SecondFactor:
    has_factor: Callable[[User], bool]
    verify_code: Callable[[User, str], bool]


# The one pluggable point: how a user with a second factor proves themselves.
second_factor: SecondFactor | None = None


def register_second_factor(
    has_factor: Callable[[User], bool], verify_code: Callable[[User, str], bool]
) -> None:
    """Ask users for whom `has_factor(user)` is true for a code, checked by `verify_code`."""
    global second_factor
    second_factor = SecondFactor(has_factor=has_factor, verify_code=verify_code)


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
        # Counted by axes as a failed sign-in for this account, as a wrong password is.
        user_login_failed.send(
            sender=__name__, credentials={"username": user.email}, request=request
        )
        return False
    proved = authenticate(request, username=user.email, password=form.cleaned_data[PASSWORD_FIELD])
    return proved is not None and proved.pk == user.pk


def check(
    request: HttpRequest, *, template: str = DIALOG_TEMPLATE, context: dict | None = None
) -> HttpResponse | None:
    """None when the action may go on; otherwise the "Confirm it's you" answer."""
    if is_fresh(request):
        return None
    user = request.user
    code = asks_for_code(user)
    field = CODE_FIELD if code else PASSWORD_FIELD
    form_class = CodeProofForm if code else PasswordProofForm
    form = form_class(request.POST if field in request.POST else None)
    if form.is_bound and form.is_valid():
        credentials = {"username": user.email}
        if not AxesProxyHandler.is_allowed(request, credentials):
            form.add_error(field, LOCKED_OUT)
        elif _proved(request, user, form, code):
            mark_fresh(request)
            return None
        elif not AxesProxyHandler.is_allowed(request, credentials):
            form.add_error(field, LOCKED_OUT)
        else:
            form.add_error(field, WRONG_CODE if code else WRONG_PASSWORD)
        # The dialog says it is locked out itself: axes' own page would replace it whole.
        request.axes_locked_out = False
    carried = [
        (name, value)
        for name in request.POST
        if name not in NOT_CARRIED
        for value in request.POST.getlist(name)
    ]
    page = {"form": form, "field": form[field], "carried": carried, "code": code}
    page |= {"minutes": STEP_UP_SECONDS // 60, "title": "Confirm it's you"}
    return render(request, template, (context or {}) | page)
