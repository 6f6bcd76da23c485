"""Second factors: what a user has, and checking what they present.

TOTP and recovery codes are django-otp devices (`TOTPDevice`, `StaticDevice`); passkeys are
`accounts.Passkey`, checked with py_webauthn. Nothing here writes an event: the writes that
change a user's factors live in `accounts.services`. The step-up check reuses
`verify_second_factor_code` and `passkey_authentication_options` / `verify_passkey`.
"""

import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.models import Passkey, User

RECOVERY_CODE_COUNT = 10
# Ten characters of an alphabet without look-alikes: 50 random bits each, shown as xxxxx-xxxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
TOTP_DIGITS = 6
# A code field takes at most this much (a recovery code with its dash and some spaces).
CODE_MAX_LENGTH = 32
# A passkey response is a few kilobytes; anything much larger is refused before parsing.
PASSKEY_RESPONSE_MAX = 16 * 1024

REGISTRATION_SESSION_KEY = "passkey_registration_challenge"
AUTHENTICATION_SESSION_KEY = "passkey_authentication_challenge"


class PasskeyError(ValueError):
    """A passkey response that does not verify (the message is safe to show)."""


def user_has_second_factor(user: User) -> bool:
    """A confirmed authenticator app or a passkey (recovery codes alone are no factor)."""
    if not getattr(user, "is_authenticated", False) or user.pk is None:
        return False
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or Passkey.objects.filter(user=user, confirmed=True).exists()
    )


def owes_second_step(user: User) -> bool:
    """Signed in, with a second factor this session has not passed (it signed in before the
    factor was set up, or is a system admin's on the way to the admin site)."""
    return user.is_authenticated and not user.is_verified() and user_has_second_factor(user)


def has_code_factor(user: User) -> bool:
    """Whether the user can type a second factor: an authenticator app or recovery codes."""
    return confirmed_totp(user) is not None or recovery_codes_left(user) > 0


def has_passkey(user: User) -> bool:
    return Passkey.objects.filter(user=user, confirmed=True).exists()


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user: User) -> int:
    device = recovery_device(user)
    return device.token_set.count() if device else 0


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def recovery_code_digest(code: str) -> str:
    """What is stored for a recovery code: a keyed hash (the codes themselves are shown once
    and never stored). 64 bits of HMAC-SHA-256 fit django-otp's 16-character token column."""
    key = hashlib.sha256(b"keyward-recovery-codes:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, _normalise(code).encode(), hashlib.sha256).hexdigest()[:16]


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def verify_totp(device: TOTPDevice, code: str) -> bool:
    """The code of this device, once: the device row is locked, so that two requests with the
    same code cannot both pass (django-otp refuses a time step at or before the last used)."""
    code = "".join(code.split())
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return False
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        return bool(locked.verify_token(code))


def match_second_factor_code(user: User, code: str) -> Device | None:
    """The device that accepts `code` (a TOTP code, or a recovery code, which is used up), or
    None. Codes of another user's devices never match."""
    if not isinstance(code, str) or not code.strip() or len(code) > CODE_MAX_LENGTH:
        return None
    totp = confirmed_totp(user)
    if totp is not None and verify_totp(totp, code):
        return totp
    normalised = _normalise(code)
    if len(normalised) == RECOVERY_CODE_LENGTH and normalised.isascii() and normalised.isalnum():
        with transaction.atomic():
            device = StaticDevice.objects.select_for_update().filter(user=user).first()
            if device is not None and device.verify_token(recovery_code_digest(normalised)):
                return device
    return None


def verify_second_factor_code(user: User, code: str) -> bool:
    """True when `code` is the user's current TOTP code or one of their recovery codes."""
    return match_second_factor_code(user, code) is not None


# Passkeys ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str


def relying_party(request: HttpRequest) -> RelyingParty:
    """The RP ID and the origin the browser reports: the portal's own host (or the parent
    domain WEBAUTHN_RP_ID names). The Host was checked against ALLOWED_HOSTS already."""
    host = request.get_host()
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    origin = f"{request.scheme}://{host}"
    rp_id = settings.WEBAUTHN_RP_ID or hostname.lower()
    if _is_ip_address(rp_id):
        # Browsers refuse a passkey for an address ("This is an invalid domain").
        port = request.get_port()
        local = f"{request.scheme}://localhost{'' if port in ('80', '443') else ':' + port}/"
        raise PasskeyError(
            f"Passkeys need the portal's domain name, not an IP address: open it at {local} "
            "or at its domain name."
        )
    return RelyingParty(id=rp_id, origin=origin)


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _user_handle(user: User) -> bytes:
    """A stable, opaque user handle (not the email, not the database ID in clear)."""
    key = hashlib.sha256(b"keyward-webauthn-user:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, str(user.pk).encode(), hashlib.sha256).digest()


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id))
        for passkey in Passkey.objects.filter(user=user, confirmed=True)
    ]


def passkey_registration_options(request: HttpRequest, user: User) -> str:
    """The creation options (JSON) for a new passkey of `user`; the challenge waits in the
    session for `verify_passkey_registration`."""
    rp = relying_party(request)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=_user_handle(user),
        user_name=user.email,
        user_display_name=user.get_full_name(),
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    request.session[REGISTRATION_SESSION_KEY] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


@dataclass(frozen=True)
class NewPasskey:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: list[str]


def _credential_json(raw: str | bytes) -> dict:
    if len(raw) > PASSKEY_RESPONSE_MAX:
        raise PasskeyError("The passkey's answer is too large.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise PasskeyError("The passkey's answer is not valid.") from None
    if not isinstance(data, dict):
        raise PasskeyError("The passkey's answer is not valid.")
    return data


def verify_passkey_registration(request: HttpRequest, raw: str | bytes) -> NewPasskey:
    """The credential the browser created, checked against the session's challenge (used once)."""
    challenge = request.session.pop(REGISTRATION_SESSION_KEY, None)
    if not challenge:
        raise PasskeyError("Start again: the passkey request has expired.")
    data = _credential_json(raw)
    rp = relying_party(request)
    try:
        verified = verify_registration_response(
            credential=data,
            expected_challenge=_b64(challenge),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PasskeyError("The passkey could not be registered.") from exc
    transports = (data.get("response") or {}).get("transports") or []
    if not isinstance(transports, list):
        transports = []
    return NewPasskey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in transports if isinstance(t, str)][:8],
    )


def passkey_authentication_options(request: HttpRequest, user: User) -> str:
    """The request options (JSON) for signing in (or re-checking) with one of `user`'s
    passkeys; the challenge waits in the session for `verify_passkey`."""
    options = generate_authentication_options(
        rp_id=relying_party(request).id,
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    request.session[AUTHENTICATION_SESSION_KEY] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


def verify_passkey(request: HttpRequest, user: User, raw: str | bytes) -> Passkey:
    """The passkey of `user` that signed the session's challenge (used once), its signature
    counter moved on; PasskeyError otherwise (someone else's passkey included)."""
    challenge = request.session.pop(AUTHENTICATION_SESSION_KEY, None)
    if not challenge:
        raise PasskeyError("Start again: the passkey request has expired.")
    data = _credential_json(raw)
    raw_id = data.get("rawId") or data.get("id")
    if not isinstance(raw_id, str):
        raise PasskeyError("The passkey was not accepted.")
    try:
        credential_id = _b64(raw_id)
    except ValueError:
        raise PasskeyError("The passkey was not accepted.") from None
    rp = relying_party(request)
    with transaction.atomic():
        passkey = (
            Passkey.objects.select_for_update()
            .filter(user=user, confirmed=True, credential_id=credential_id)
            .first()
        )
        if passkey is None:
            raise PasskeyError("The passkey was not accepted.")
        try:
            verified = verify_authentication_response(
                credential=data,
                expected_challenge=_b64(challenge),
                expected_rp_id=rp.id,
                expected_origin=rp.origin,
                credential_public_key=bytes(passkey.public_key),
                credential_current_sign_count=passkey.sign_count,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PasskeyError("The passkey was not accepted.") from exc
        passkey.sign_count = verified.new_sign_count
        passkey.last_used_at = timezone.now()
        passkey.save(update_fields=["sign_count", "last_used_at"])
    return passkey


def passkey_proves(request: HttpRequest, user: User, raw: str | bytes) -> bool:
    """Whether `raw` is one of `user`'s passkeys signing the session's challenge (step-up)."""
    try:
        verify_passkey(request, user, raw)
    except PasskeyError:
        return False
    return True


def _b64(value: str) -> bytes:
    try:
        return base64url_to_bytes(value)
    except Exception as exc:  # binascii.Error and friends
        raise ValueError("not base64url") from exc
