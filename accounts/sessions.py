"""A user's signed-in sessions: listed on the profile, each one can be signed out.

A `UserSession` row is keyed by the session engine's key: created on `user_logged_in`,
deleted on `user_logged_out`, and followed when the key changes (a sign-in over a session,
a password change). Signing a session out deletes it in the engine
(`SessionStore(key).delete()`), so its next request is anonymous; should a session outlive
its row anyway (an engine that cannot delete, such as signed cookies), the middleware signs
it out at its next once-a-minute check.
"""

import re
import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User, UserSession
from web.http import client_ip

SEEN_EVERY_SECONDS = 60
# What the session itself remembers: the key its row was made under, and when it was seen.
ROW_KEY = "_session_row"
SEEN_KEY = "_session_seen"

_BROWSERS = [
    ("Edg", "Edge"),
    ("OPR", "Opera"),
    ("SamsungBrowser", "Samsung Internet"),
    ("Firefox", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chromium", "Chromium"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
    ("curl", "curl"),
]
_SYSTEMS = [
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
]
_TOKEN = re.compile(r"[A-Za-z]+")


def device_label(user_agent: str) -> str:
    """A readable "Chrome on Linux" from a User-Agent; good enough to recognise a device."""
    user_agent = user_agent[:512]
    words = set(_TOKEN.findall(user_agent.replace("HeadlessChrome", "Chrome")))
    browser = next((name for token, name in _BROWSERS if token in words), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _key(request: HttpRequest) -> str:
    if request.session.session_key is None:
        request.session.save()
    return request.session.session_key


def _start(request: HttpRequest, user: User) -> None:
    key = _key(request)
    previous = request.session.get(ROW_KEY)
    if previous and previous != key:
        UserSession.objects.filter(session_key=previous, user=user).delete()
    now = timezone.now()
    seen = {
        "user": user,
        "device": device_label(request.META.get("HTTP_USER_AGENT", "")),
        "ip_address": client_ip(request),
        "last_seen_at": now,
    }
    UserSession.objects.update_or_create(
        session_key=key, defaults=seen, create_defaults=seen | {"created_at": now}
    )
    request.session[ROW_KEY] = key
    request.session[SEEN_KEY] = int(time.time())


@receiver(user_logged_in, dispatch_uid="sessions-started")
def _signed_in(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        _start(request, user)


@receiver(user_logged_out, dispatch_uid="sessions-ended")
def _signed_out(sender, request: HttpRequest | None, user: User | None, **kwargs) -> None:
    if request is None or user is None or not hasattr(request, "session"):
        return
    keys = {request.session.session_key, request.session.get(ROW_KEY)} - {None}
    UserSession.objects.filter(user=user, session_key__in=keys).delete()


def follow_key(request: HttpRequest) -> None:
    """Move this session's row to its current key, after the engine gave it a new one."""
    previous = request.session.get(ROW_KEY)
    key = request.session.session_key
    if previous and key and previous != key:
        UserSession.objects.filter(session_key=previous, user=request.user).update(session_key=key)
        request.session[ROW_KEY] = key


class SessionActivityMiddleware:
    """Keeps each session's row: last seen and address at most once a minute, adopts a
    session from before the rows existed, and signs out one whose row was ended."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._seen(request, user)
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            follow_key(request)
        return response

    def _seen(self, request: HttpRequest, user: User) -> None:
        session = request.session
        if session.get(ROW_KEY) is None:
            _start(request, user)
            return
        now = int(time.time())
        seen = session.get(SEEN_KEY)
        if isinstance(seen, int) and 0 <= now - seen < SEEN_EVERY_SECONDS:
            return
        follow_key(request)
        updated = UserSession.objects.filter(session_key=session.session_key, user=user).update(
            last_seen_at=timezone.now(), ip_address=client_ip(request)
        )
        if updated:
            session[SEEN_KEY] = now
        else:
            logout(request)


def session_list(request: HttpRequest) -> list[UserSession]:
    """The signed-in user's sessions, this one first, each with `is_current`."""
    current = request.session.session_key
    rows = list(UserSession.objects.filter(user=request.user))
    for row in rows:
        row.is_current = row.session_key == current
    rows.sort(key=lambda row: not row.is_current)
    return rows


def _end(rows: list[UserSession]) -> int:
    store = _store()
    with transaction.atomic():
        UserSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    for row in rows:
        store(session_key=row.session_key).delete()
    return len(rows)


def end_session(user: User, *, session_id: int, keep_session_key: str | None = None) -> bool:
    """Sign out one of `user`'s sessions (never `keep_session_key`); False if none is found."""
    rows = UserSession.objects.filter(user=user, pk=session_id)
    if keep_session_key:
        rows = rows.exclude(session_key=keep_session_key)
    return _end(list(rows)) == 1


def end_sessions(user: User, *, keep_session_key: str | None = None) -> int:
    """Sign out every session of `user` but `keep_session_key`; how many were ended.
    For a password change, a password reset, a lost-factor recovery."""
    rows = UserSession.objects.filter(user=user)
    if keep_session_key:
        rows = rows.exclude(session_key=keep_session_key)
    return _end(list(rows))
