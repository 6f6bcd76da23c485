"""The secret scanning partner protocol's signature (GitHub): ECDSA P-256 with SHA-256 over
the raw body, the DER signature in base64 in `GITHUB-PUBLIC-KEY-SIGNATURE`, the signing key
named by `GITHUB-PUBLIC-KEY-IDENTIFIER`."""

import base64
import binascii
from functools import cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from leaks.models import TrustedReporter

MAX_IDENTIFIER_LENGTH = 128
MAX_SIGNATURE_LENGTH = 200  # a P-256 DER signature is at most 72 bytes: 96 in base64


class NotAP256Key(ValueError):
    pass


def load_public_key(pem: str) -> ec.EllipticCurvePublicKey:
    """The ECDSA P-256 public key of `pem`, or NotAP256Key."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise NotAP256Key("not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise NotAP256Key("not an ECDSA P-256 key")
    return key


@cache
def _decoy_pem() -> str:
    """A P-256 public key nobody holds the private half of: an unknown identifier is checked
    against it, so that it costs what a known one does (a lookup, a PEM load, a verify)."""
    private = ec.generate_private_key(ec.SECP256R1())
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _plain(value: str, limit: int) -> bool:
    return 0 < len(value) <= limit and value.isascii() and value.isprintable()


def verify(body: bytes, identifier: str, signature: str) -> TrustedReporter | None:
    """The active trusted reporter whose key signed `body`, or None: a missing, unknown or
    inactive identifier and a bad signature are the same None, after the same work."""
    reporter = None
    if _plain(identifier, MAX_IDENTIFIER_LENGTH):
        reporter = TrustedReporter.objects.filter(key_identifier=identifier, is_active=True).first()
    try:
        public_key = load_public_key(reporter.public_key_pem if reporter else _decoy_pem())
    except NotAP256Key:
        public_key, reporter = load_public_key(_decoy_pem()), None
    der = _DUMMY_SIGNATURE
    if _plain(signature, MAX_SIGNATURE_LENGTH):
        try:
            der = base64.b64decode(signature, validate=True)
        except (ValueError, binascii.Error):
            der = _DUMMY_SIGNATURE
    try:
        public_key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return None
    return reporter


# A well-formed DER signature (r = s = 1) that verifies under no key: what a missing or
# unreadable signature is checked as, so that it costs what a wrong one does.
_DUMMY_SIGNATURE = bytes.fromhex("3006020101020101")
