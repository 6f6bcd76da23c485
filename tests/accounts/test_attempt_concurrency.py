"""Parallel guesses at a second factor: each is checked against the lock-out only after the
one before it was counted, so no more than AXES_FAILURE_LIMIT are ever verified (the user's
row lock: PostgreSQL; SQLite, one process in development, waits on a lock in the process)."""

import dataclasses
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services, stepup, two_factor
from tests.factories import PASSWORD
from tests.helpers import TOTP_KEY_HEX, csrf_token_for, htmx_headers, passed_second_factor

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)
PARALLEL = 12


def _slow_and_counted(monkeypatch, module, name: str) -> list[str]:
    """Widen the window between the lock-out check and axes' count of the failure."""
    verified: list[str] = []
    original = getattr(module, name)

    def slow(*args, **kwargs):
        verified.append(name)
        time.sleep(0.05)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)
    return verified


def _in_parallel(clients: list[Client], send) -> list[int]:
    start = threading.Barrier(len(clients))
    statuses, failed = [], []

    def one(client: Client, number: int) -> None:
        try:
            start.wait()
            statuses.append(send(client, number).status_code)
        except Exception as exc:
            failed.append(repr(exc))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=one, args=(c, n)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    return statuses


def _copies(client: Client, count: int) -> list[Client]:
    copies = []
    for _ in range(count):
        copy = Client(enforce_csrf_checks=True)
        copy.cookies = client.cookies
        copies.append(copy)
    return copies


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_at_sign_in_are_verified_no_more_than_the_limit(admin, monkeypatch):
    services.totp_install(user=admin, key_hex=TOTP_KEY_HEX, actor=None, via="test")
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_for(client, reverse("login"))
    client.post(
        reverse("login"),
        {"username": admin.email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    token = csrf_token_for(client, reverse("second_factor"))
    verified = _slow_and_counted(monkeypatch, two_factor, "match_second_factor_code")

    def guess(copy: Client, number: int):
        return copy.post(
            reverse("second_factor"),
            {"code": f"{100000 + number:06d}"},
            headers={"X-CSRFToken": token},
        )

    statuses = _in_parallel(_copies(client, PARALLEL), guess)
    assert len(verified) <= settings.AXES_FAILURE_LIMIT, statuses
    assert statuses.count(429) + statuses.count(403) >= PARALLEL - settings.AXES_FAILURE_LIMIT


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_step_up_codes_are_verified_no_more_than_the_limit(
    developer, acme, monkeypatch
):
    acme.settings.max_expiration_days = None
    acme.settings.save()
    services.totp_install(user=developer, key_hex=TOTP_KEY_HEX, actor=None, via="test")
    client = Client(enforce_csrf_checks=True)
    client.force_login(developer)
    passed_second_factor(client, developer)
    token = csrf_token_for(client, reverse("apikeys:my_keys", args=["acme"]))
    real = stepup.second_factor
    verified: list[str] = []

    def slow(user, code: str) -> bool:
        verified.append(code)
        time.sleep(0.05)
        return real.verify_code(user, code)

    monkeypatch.setattr(stepup, "second_factor", dataclasses.replace(real, verify_code=slow))
    new_key = {"name": "Guess", "environment": "production", "scopes": ["customers:read"]}

    def guess(copy: Client, number: int):
        return copy.post(
            reverse("apikeys:create", args=["acme"]),
            new_key | {"rate_limit": "60", stepup.CODE_FIELD: f"{100000 + number:06d}"},
            headers=htmx_headers(token),
        )

    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=True):
        statuses = _in_parallel(_copies(client, PARALLEL), guess)
    assert len(verified) <= settings.AXES_FAILURE_LIMIT, statuses
