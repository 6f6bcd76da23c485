"""The key format: `kw_<env>_<id>_<secret><checksum>` (GitHub's 2021 token format, adapted).

- `<env>`: `live`, `stg`, `dev`, or `svc` for service keys;
- `<id>`: 10 base62 characters, public, shown in tables as the key ID;
- `<secret>`: 30 base62 characters from `secrets` (178 bits);
- `<checksum>`: CRC32 of everything before it, as 6 base62 characters.

A leaked key can be found with `KEY_PATTERN` and checked offline; a mistyped or truncated key
is refused by `parse` before anything touches the database. Only `hash_key(key)`, an
HMAC-SHA-256 under a server-side pepper, is ever stored.
"""

import hmac
import re
import secrets
import zlib
from dataclasses import dataclass
from functools import cache

from django.conf import settings

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 10
SECRET_LENGTH = 30
CHECKSUM_LENGTH = 6
ENV_PREFIXES = ("live", "stg", "dev", "svc")

KEY_PATTERN = re.compile(
    rf"\bkw_(?P<env>{'|'.join(ENV_PREFIXES)})_(?P<id>[0-9A-Za-z]{{{ID_LENGTH}}})_"
    rf"(?P<secret>[0-9A-Za-z]{{{SECRET_LENGTH}}})(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})\b"
)
MAX_KEY_LENGTH = 3 + 4 + 1 + ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH
KEY_ID_PATTERN = re.compile(rf"[0-9A-Za-z]{{{ID_LENGTH}}}")


@dataclass(frozen=True, slots=True)
class ParsedKey:
    env: str
    key_id: str


def random_base62(length: int) -> str:
    """`length` characters of [0-9A-Za-z] from `secrets`: key secrets and public IDs alike."""
    return "".join(secrets.choice(BASE62) for _ in range(length))


def _base62(number: int, length: int) -> str:
    digits = []
    for _ in range(length):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def new_key_id() -> str:
    return random_base62(ID_LENGTH)


def generate(env: str, key_id: str | None = None) -> str:
    """A fresh full key for `env` (and `key_id`, when a key keeps its ID on regenerate)."""
    if env not in ENV_PREFIXES:
        raise ValueError(f"unknown key environment {env!r}")
    body = f"kw_{env}_{key_id or new_key_id()}_{random_base62(SECRET_LENGTH)}"
    return body + checksum(body)


def parse(key: str, *, with_checksum: bool = True) -> ParsedKey | None:
    """The environment and ID of a well-formed key with a valid checksum, else None.

    `with_checksum=False` checks the shape alone: for a caller that proves the key another
    way first (verification, by its keyed hash) and checks the checksum otherwise."""
    if len(key) > MAX_KEY_LENGTH:  # before the regex: a huge header costs nothing
        return None
    match = KEY_PATTERN.fullmatch(key)
    if match is None or (with_checksum and not checksum_matches(key)):
        return None
    return ParsedKey(env=match["env"], key_id=match["id"])


def checksum_matches(key: str) -> bool:
    """Whether a well-formed key's last characters are the checksum of the rest."""
    body, given = key[:-CHECKSUM_LENGTH], key[-CHECKSUM_LENGTH:]
    return hmac.compare_digest(checksum(body), given)


@cache
def _pepper() -> bytes:
    configured = getattr(settings, "API_KEY_PEPPER", "")
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"keyward api key pepper", "sha256").digest()


def hash_key(key: str) -> str:
    """The stored form of a key: hex HMAC-SHA-256 under the pepper. Not reversible."""
    # hmac.digest: OpenSSL's one-shot HMAC, without building an HMAC object per key.
    return hmac.digest(_pepper(), key.encode("ascii"), "sha256").hex()
