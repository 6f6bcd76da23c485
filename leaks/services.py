"""Writes of the leaks app: trusted reporters (system admins), and reports of leaked keys,
which the keys' own service handles (`apikeys.services.api_key_report_leak`)."""

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from apikeys import services as key_services
from leaks.models import TrustedReporter
from leaks.signatures import MAX_IDENTIFIER_LENGTH, NotAP256Key, load_public_key
from tenants.models import Event
from tenants.services import event_record
from web.text import check_name

# The public report page: reports a client address may send in a window (any answer counts).
PUBLIC_REPORTS_PER_WINDOW = 10
PUBLIC_REPORT_WINDOW_SECONDS = 3600
MAX_TYPE_LENGTH = 100


def _record(reporter: TrustedReporter, action: Event.Action, actor: User | None, changes=None):
    event_record(
        action=action,
        actor=actor,
        tenant=None,
        target_type="leak_reporter",
        target_id=reporter.key_identifier[:64],
        target_name=reporter.name,
        changes=changes,
    )


def check_reporter(name: str, key_identifier: str, public_key_pem: str) -> tuple[str, str, str]:
    name, key_identifier, pem = name.strip(), key_identifier.strip(), public_key_pem.strip()
    errors = {}
    if not name:
        errors["name"] = "Give the reporter a name."
    elif len(name) > 100:
        errors["name"] = "A name has at most 100 characters."
    elif (message := check_name(name)) is not None:
        errors["name"] = message
    if not (
        0 < len(key_identifier) <= MAX_IDENTIFIER_LENGTH
        and key_identifier.isascii()
        and key_identifier.isprintable()
        and " " not in key_identifier
    ):
        errors["key_identifier"] = (
            f"A key identifier is 1 to {MAX_IDENTIFIER_LENGTH} printable ASCII characters, "
            "without spaces."
        )
    try:
        load_public_key(pem)
    except NotAP256Key:
        errors["public_key_pem"] = "Paste an ECDSA P-256 public key in PEM (BEGIN PUBLIC KEY)."
    if errors:
        raise ValidationError(errors)
    return name, key_identifier, pem


@transaction.atomic
def reporter_create(
    *, name: str, key_identifier: str, public_key_pem: str, actor: User | None, is_active=True
) -> TrustedReporter:
    name, key_identifier, pem = check_reporter(name, key_identifier, public_key_pem)
    if TrustedReporter.objects.filter(key_identifier=key_identifier).exists():
        raise ValidationError({"key_identifier": "A reporter with this key identifier exists."})
    reporter = TrustedReporter.objects.create(
        name=name, key_identifier=key_identifier, public_key_pem=pem, is_active=is_active
    )
    _record(reporter, Event.Action.LEAK_REPORTER_ADDED, actor, {"active": is_active})
    return reporter


@transaction.atomic
def reporter_update(
    *,
    reporter: TrustedReporter,
    name: str,
    key_identifier: str,
    public_key_pem: str,
    is_active: bool,
    actor: User | None,
) -> TrustedReporter:
    reporter = TrustedReporter.objects.select_for_update().get(pk=reporter.pk)
    name, key_identifier, pem = check_reporter(name, key_identifier, public_key_pem)
    others = TrustedReporter.objects.filter(key_identifier=key_identifier).exclude(pk=reporter.pk)
    if others.exists():
        raise ValidationError({"key_identifier": "A reporter with this key identifier exists."})
    changes = {}
    for field, value in (("name", name), ("key_identifier", key_identifier)):
        if getattr(reporter, field) != value:
            changes[field] = {"before": getattr(reporter, field), "after": value}
    if reporter.public_key_pem != pem:
        changes["public_key"] = "replaced"
    if reporter.is_active != is_active:
        changes["active"] = {"before": reporter.is_active, "after": is_active}
    if not changes:
        return reporter
    reporter.name, reporter.key_identifier = name, key_identifier
    reporter.public_key_pem, reporter.is_active = pem, is_active
    reporter.save()
    _record(reporter, Event.Action.LEAK_REPORTER_CHANGED, actor, changes)
    return reporter


@transaction.atomic
def reporter_delete(*, reporter: TrustedReporter, actor: User | None) -> None:
    _record(reporter, Event.Action.LEAK_REPORTER_REMOVED, actor)
    reporter.delete()


def token_hash(token: str) -> str:
    """What the feedback names a token by: SHA-256 of it, hex (never the secret itself)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class Match:
    """One entry of a signed report: `token` found at `url` (`source`: commit, gist, ...)."""

    token: str
    type: str = ""
    url: str = ""
    source: str = ""


def github_report(
    *, reporter: TrustedReporter, matches: list[Match], ip_address: str | None
) -> list[dict[str, str]]:
    """Handle a verified report, token by token (each in its own transaction), and answer
    GitHub's feedback: each token's SHA-256 with `true_positive` when it is a live Keyward
    key, else `false_positive`."""
    feedback = []
    for match in matches:
        where = f"{reporter.name} secret scanning"
        if match.source:
            where += f" ({match.source[:MAX_TYPE_LENGTH]})"
        key = key_services.api_key_report_leak(
            token=match.token,
            source_url=match.url or where,
            reporter=where,
            ip_address=ip_address,
        )
        feedback.append(
            {
                "token_hash": token_hash(match.token),
                "token_type": match.type[:MAX_TYPE_LENGTH],
                "label": "true_positive" if key is not None else "false_positive",
            }
        )
    return feedback


def public_report(*, token: str, url: str, note: str, ip_address: str | None) -> None:
    """Anyone's report (the public page). Returns nothing: whatever was reported, the
    reporter learns nothing from the answer."""
    key_services.api_key_report_leak(
        token=token.strip(),
        source_url=url.strip(),
        reporter="public report",
        note=note.strip(),
        ip_address=ip_address,
    )


class Throttled(Exception):
    pass


def count_public_report(ip_address: str | None) -> None:
    """Count one public report from `ip_address` in the cache (Redis when set), or raise
    Throttled past PUBLIC_REPORTS_PER_WINDOW in the window. An unreachable cache throttles
    (fails closed): the page is public and unauthenticated."""
    bucket = f"leaks:public-report:{ip_address or 'unknown'}"
    try:
        cache.add(bucket, 0, timeout=PUBLIC_REPORT_WINDOW_SECONDS)
        count = cache.incr(bucket)
    except Exception:  # any cache failure: refuse rather than run unthrottled
        raise Throttled from None
    if count > PUBLIC_REPORTS_PER_WINDOW:
        raise Throttled
