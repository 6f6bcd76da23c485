"""Writes that change a user's second factors. Each is atomic and tells
`accounts.signals.second_factor_changed` inside its transaction (the tenants app writes
the event). Secrets (TOTP keys, recovery codes) never reach an event."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import sessions, two_factor
from accounts.models import Passkey, User
from accounts.signals import second_factor_changed
from web.text import check_name

PASSKEY_NAME_MAX = 64
PASSKEYS_MAX = 10
WRONG_CODE = "That code is not correct. Enter the code the app shows now."


def _changed(
    *, user: User, actor: User | None, action: str, changes: dict, ip_address: str | None
) -> None:
    second_factor_changed.send(
        sender=User,
        user=user,
        actor=actor,
        action=action,
        changes=changes,
        ip_address=ip_address,
    )


def _drop_recovery_codes_without_factor(user: User) -> bool:
    """Recovery codes stand in for a factor; with none left they would be one on their own."""
    if two_factor.user_has_second_factor(user):
        return False
    deleted, _ = StaticDevice.objects.filter(user=user).delete()
    return bool(deleted)


def _first_factor_signs_out_the_rest(user: User, had_factor: bool, session_key: str | None):
    """A user's first second factor: their sessions signed in with the password alone end
    (after the commit), but for `session_key`, the one that set it up and passed it."""
    if not had_factor:
        transaction.on_commit(lambda: sessions.end_sessions(user, keep_session_key=session_key))


@transaction.atomic
def totp_confirm(
    *,
    user: User,
    key_hex: str,
    code: str,
    ip_address: str | None = None,
    session_key: str | None = None,
) -> list[str]:
    """Set up the authenticator app whose key the user was shown, confirmed by a code it
    shows now (that time step is then used up); it replaces any earlier app. Returns new
    recovery codes when the user had none (to show once), or []. A first factor signs out
    the user's other sessions (`session_key` is the one that stays)."""
    had_factor = two_factor.user_has_second_factor(user)
    device = TOTPDevice.objects.create(
        user=user, name="Authenticator app", key=key_hex, confirmed=False
    )
    if not two_factor.verify_totp(device, code):
        # Raised inside the transaction: the unconfirmed device goes with it.
        raise ValidationError(
            {"code": "That code is not correct. Enter the code the app shows now."}
        )
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    _changed(user=user, actor=user, action="account.totp_added", changes={}, ip_address=ip_address)
    _first_factor_signs_out_the_rest(user, had_factor, session_key)
    if two_factor.recovery_device(user) is None:
        return _recovery_codes_generate(user=user, actor=user, ip_address=ip_address)
    return []


@transaction.atomic
def totp_install(*, user: User, key_hex: str, actor: User | None, via: str) -> TOTPDevice:
    """An authenticator app with a known key (the demo's root): replaces any other."""
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(
        user=user, name="Authenticator app", key=key_hex, confirmed=True
    )
    _changed(
        user=user,
        actor=actor,
        action="account.totp_added",
        changes={"via": via} if via else {},
        ip_address=None,
    )
    return device


@transaction.atomic
def totp_remove(*, user: User, ip_address: str | None = None) -> None:
    deleted, _ = TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    if not deleted:
        return
    changes = {"recovery_codes_removed": True} if _drop_recovery_codes_without_factor(user) else {}
    _changed(
        user=user,
        actor=user,
        action="account.totp_removed",
        changes=changes,
        ip_address=ip_address,
    )


def _recovery_codes_generate(*, user: User, actor: User, ip_address: str | None) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = two_factor.new_recovery_codes()
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=two_factor.recovery_code_digest(code)) for code in codes
    )
    _changed(
        user=user,
        actor=actor,
        action="account.recovery_codes_generated",
        changes={"count": len(codes)},
        ip_address=ip_address,
    )
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User, ip_address: str | None = None) -> list[str]:
    """Ten new single-use codes (the old ones stop working), for a user with a factor."""
    if not two_factor.user_has_second_factor(user):
        raise ValidationError("Set up an authenticator app or a passkey first.")
    return _recovery_codes_generate(user=user, actor=user, ip_address=ip_address)


def clean_passkey_name(name: object) -> str:
    if not isinstance(name, str):
        raise ValidationError({"name": "Give the passkey a name."})
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the passkey a name."})
    if len(name) > PASSKEY_NAME_MAX:
        raise ValidationError({"name": f"At most {PASSKEY_NAME_MAX} characters."})
    problem = check_name(name)
    if problem:
        raise ValidationError({"name": problem})
    return name


@transaction.atomic
def passkey_add(
    *,
    user: User,
    new: two_factor.NewPasskey,
    name: str,
    ip_address: str | None = None,
    session_key: str | None = None,
) -> Passkey:
    """A new passkey of `user`; a first factor signs out their other sessions (as
    `totp_confirm`)."""
    name = clean_passkey_name(name)
    had_factor = two_factor.user_has_second_factor(user)
    if Passkey.objects.filter(user=user).count() >= PASSKEYS_MAX:
        raise ValidationError({"name": f"At most {PASSKEYS_MAX} passkeys."})
    if Passkey.objects.filter(credential_id=new.credential_id).exists():
        raise ValidationError({"name": "This passkey is registered already."})
    passkey = Passkey.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        transports=new.transports,
    )
    _changed(
        user=user,
        actor=user,
        action="account.passkey_added",
        changes={"passkey": name},
        ip_address=ip_address,
    )
    _first_factor_signs_out_the_rest(user, had_factor, session_key)
    return passkey


@transaction.atomic
def passkey_remove(*, user: User, passkey_id: int, ip_address: str | None = None) -> None:
    """Remove one of the user's own passkeys (another user's is not found)."""
    passkey = Passkey.objects.filter(user=user, pk=passkey_id).first()
    if passkey is None:
        raise Passkey.DoesNotExist
    name = passkey.name
    passkey.delete()
    changes: dict = {"passkey": name}
    if _drop_recovery_codes_without_factor(user):
        changes["recovery_codes_removed"] = True
    _changed(
        user=user,
        actor=user,
        action="account.passkey_removed",
        changes=changes,
        ip_address=ip_address,
    )


@transaction.atomic
def reset_second_factors(*, user: User, actor: User, ip_address: str | None = None) -> dict:
    """Lost-factor recovery by a system admin: every factor of `user` goes (authenticator
    app, passkeys, recovery codes), so that they sign in with their password and set one up
    again. Returns what was removed; writes one event even when there was nothing."""
    if not actor.is_superuser:
        raise PermissionError("Only a system admin resets second factors.")
    removed = {
        "authenticator_apps": TOTPDevice.objects.filter(user=user).delete()[0],
        "passkeys": Passkey.objects.filter(user=user).delete()[0],
        "recovery_codes": StaticDevice.objects.filter(user=user).exists(),
    }
    StaticDevice.objects.filter(user=user).delete()
    _changed(
        user=user,
        actor=actor,
        action="account.second_factors_reset",
        changes=removed,
        ip_address=ip_address,
    )
    # Whoever holds the lost factor may hold a session too: every session of the user ends.
    transaction.on_commit(lambda: sessions.end_sessions(user))
    return removed
