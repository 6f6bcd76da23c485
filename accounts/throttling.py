"""What django-axes counts failed sign-ins by (AXES_USERNAME_CALLABLE), and second-factor
attempts taken one at a time per account."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import connection, transaction
from django.dispatch import receiver
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


def count_failure(request: HttpRequest, user) -> None:
    """A wrong second factor or step-up proof: counted by axes as a failed sign-in of the
    account (and the address), as a wrong password is."""
    user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=request)


# SQLite (development: one process): select_for_update does nothing there, so attempts wait
# on this lock instead.
_sqlite_attempts = threading.Lock()


@contextmanager
def one_attempt_at_a_time(user) -> Iterator[None]:
    """Second-factor attempts (and step-up proofs) of one account are taken one at a time:
    the lock-out check, the verification and axes' count of a failure are one step. Without
    it, parallel guesses are all verified before the first failure is counted (axes counts
    after the fact), and a six-digit code would get many more tries than AXES_FAILURE_LIMIT.
    On PostgreSQL the user's row is locked for the transaction; other accounts never wait."""
    from accounts.models import User

    if connection.vendor == "sqlite":
        with _sqlite_attempts, transaction.atomic():
            yield
        return
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
        yield


@receiver(user_logged_in, dispatch_uid="axes-reset-this-account-only")
def _reset_this_account(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """A sign-in that passed every step clears the failures recorded for this account (from
    any address), and no other account's."""
    from axes.utils import reset

    reset(username=user.email)
