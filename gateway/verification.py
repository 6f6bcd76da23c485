"""Verifying `Authorization: Bearer <key>` (DESIGN section 3, SECURITY.md 1-8).

The order matters:
1. the format and checksum, before anything else (no query for a mistyped or made-up key);
2. possession of the secret, by a constant-time comparison of keyed hashes; until it is
   proven every refusal reads the same, so nobody learns which key IDs exist;
3. then, and only then, why a real key is refused: revoked, disabled, expired, tenant
   switched off or deactivated, or another environment.
"""

import contextlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import connection

from apikeys import keyformat
from apikeys.models import ENVIRONMENT_OF_PREFIX, Environment, ServiceApiKey
from gateway import networks
from gateway.keystate import (
    WINDOW_SECONDS,
    StateUnavailable,
    block_size,
    state,
    warn_unavailable,
)

# A cached record is re-read after this long even if no change was published, so a change
# whose publication failed (Redis down at that moment) cannot linger longer than this.
MAX_RECORD_AGE = 30.0
_DUMMY_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class KeyRecord:
    pk: int
    key_id: str
    name: str
    tenant_id: int
    tenant_slug: str
    environment: str
    scopes: frozenset[str]
    customer_scope: tuple[str, ...]
    rate_limit: int
    secret_hash: str
    previous_hash: str
    previous_valid_until: datetime | None
    is_active: bool
    revoked: bool
    expires_on: date | None
    tenant_active: bool
    keys_enabled: bool
    networks: tuple = ()  # the parsed allowlist (gateway.networks); empty: anywhere


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    """A verified service key (the system API); it belongs to no tenant."""

    pk: int
    key_id: str
    name: str
    rate_limit: int
    tenant_id: None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    title: str
    detail: str


@dataclass(frozen=True, slots=True)
class Verified:
    record: KeyRecord | ServiceRecord
    limit: int
    used: int | None  # None: the limiter was unavailable (fail open)
    reset_seconds: int

    @property
    def remaining(self) -> int:
        return max(self.limit - (self.used or 0), 0)

    @property
    def over_limit(self) -> bool:
        return self.used is not None and self.used > self.limit


INVALID = Refusal(401, "Invalid API key", "The API key is not valid.")
MISSING = Refusal(
    401, "API key required", "Send an API key in the header 'Authorization: Bearer <key>'."
)
NOT_BEARER = Refusal(
    401, "Invalid authorization header", "Use the header 'Authorization: Bearer <key>'."
)
IN_URL = Refusal(
    401,
    "API key in the URL",
    "API keys are not accepted in the URL, where they end up in logs and browser history. "
    "Send the key in the header 'Authorization: Bearer <key>', and revoke this one: it "
    "should be treated as leaked.",
)
_URL_KEY_PARAMS = {"api_key", "apikey", "key", "token", "access_token", "auth"}


def bearer_key(header: str) -> str | None:
    """The key in an `Authorization: Bearer <key>` header value, or None."""
    scheme, _, key = header.partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


# The key format anywhere in a string, even glued to other word characters (`x_kw_live_…`).
_KEY_ANYWHERE = re.compile(
    rf"kw_(?:{'|'.join(keyformat.ENV_PREFIXES)})_[0-9A-Za-z]{{{keyformat.ID_LENGTH}}}_"
    rf"[0-9A-Za-z]{{{keyformat.SECRET_LENGTH + keyformat.CHECKSUM_LENGTH}}}"
)


def key_in_query(query: dict) -> bool:
    """Whether a query string carries a key: a parameter named like one, or a parameter
    name or value in the key format (`?kw_live_…` with no value counts)."""
    return any(
        name.lower() in _URL_KEY_PARAMS
        or _KEY_ANYWHERE.search(name)
        or any(_KEY_ANYWHERE.search(value) for value in values)
        for name, values in query.lists()
    )


_LOAD_SQL = """
    SELECT k.id, k.name, k.tenant_id, t.slug, k.environment, k.scopes, k.customer_scope,
           k.rate_limit, k.secret_hash, k.previous_secret_hash, k.previous_valid_until,
           k.is_active, k.revoked_at IS NOT NULL, k.expires_on, t.is_active,
           COALESCE(s.api_keys_enabled, FALSE), k.allowed_networks
    FROM apikeys_apikey k
    JOIN tenants_tenant t ON t.id = k.tenant_id
    LEFT JOIN tenants_tenantsettings s ON s.tenant_id = k.tenant_id
    WHERE k.key_id = %s
"""


class _Statement:
    """`_LOAD_SQL` on the driver's own connection, under Django's: on PostgreSQL a prepared
    statement (parsed and planned once per connection), on SQLite the driver's statement
    cache; no ORM and no cursor wrapper. Django's error wrapping and query capture (tests
    count queries with it) are kept."""

    def __init__(self) -> None:
        self._driver: object = None
        self._cursor = None

    def fetch(self, key_id: str) -> tuple | None:
        connection.ensure_connection()
        driver = connection.connection
        with connection.wrap_database_errors:
            if connection.vendor == "postgresql":
                if driver is not self._driver:
                    import psycopg

                    self._driver, self._cursor = driver, psycopg.Cursor(driver)
                row = self._cursor.execute(_LOAD_SQL, (key_id,), prepare=True).fetchone()
            else:
                row = driver.execute(_SQLITE_LOAD_SQL, (key_id,)).fetchone()
        if connection.queries_logged:
            connection.queries_log.append({"sql": _LOAD_SQL % repr(key_id), "time": "0.000"})
        return row


_SQLITE_LOAD_SQL = _LOAD_SQL.replace("%s", "?")
_statement = threading.local()


def _load(key_id: str) -> KeyRecord | None:
    """The key's record in one indexed query (see _Statement; DEVELOPERS.md has the costs)."""
    statement = getattr(_statement, "value", None)
    if statement is None:
        statement = _statement.value = _Statement()
    row = statement.fetch(key_id)
    if row is None:
        return None
    (
        pk,
        name,
        tenant_id,
        slug,
        environment,
        scopes,
        customer_scope,
        rate_limit,
        secret_hash,
        previous_hash,
        previous_until,
        is_active,
        revoked,
        expires_on,
        tenant_active,
        enabled,
        allowed_networks,
    ) = row
    if isinstance(customer_scope, str):  # SQLite returns JSON as text
        customer_scope = json.loads(customer_scope)
    if isinstance(previous_until, str):
        previous_until = datetime.fromisoformat(previous_until)
    if previous_until is not None and previous_until.tzinfo is None:  # SQLite stores UTC, naive
        previous_until = previous_until.replace(tzinfo=UTC)
    if isinstance(expires_on, str):
        expires_on = date.fromisoformat(expires_on)
    return KeyRecord(
        pk=pk,
        key_id=key_id,
        name=name,
        tenant_id=tenant_id,
        tenant_slug=slug,
        environment=environment,
        scopes=frozenset(scopes.split()),
        customer_scope=tuple(customer_scope or ()),
        rate_limit=rate_limit,
        secret_hash=secret_hash,
        previous_hash=previous_hash,
        previous_valid_until=previous_until,
        is_active=bool(is_active),
        revoked=bool(revoked),
        expires_on=expires_on,
        tenant_active=bool(tenant_active),
        keys_enabled=bool(enabled),
        networks=networks.loaded(allowed_networks),
    )


def _holds_secret(record: KeyRecord | None, digest: str, now: datetime) -> bool:
    """Whether `digest` (the keyed hash of the presented key) is this record's secret."""
    if record is None:
        # Same work as for a real key, so timing says nothing about which IDs exist.
        hmac.compare_digest(digest, _DUMMY_HASH)
        return False
    if hmac.compare_digest(digest, record.secret_hash):
        return True
    return (
        bool(record.previous_hash)
        and record.previous_valid_until is not None
        and record.previous_valid_until > now
        and hmac.compare_digest(digest, record.previous_hash)
    )


def _state_refusal(record: KeyRecord, environment: str, today: date) -> Refusal | None:
    if record.revoked:
        return Refusal(401, "API key revoked", "This API key has been revoked.")
    if not record.tenant_active:
        return Refusal(401, "Tenant deactivated", "The tenant of this API key is deactivated.")
    if not record.keys_enabled:
        return Refusal(
            401, "API keys disabled", "API keys are disabled for the tenant of this API key."
        )
    if not record.is_active:
        return Refusal(401, "API key disabled", "This API key is disabled.")
    if record.expires_on is not None and record.expires_on < today:
        return Refusal(
            401, "API key expired", f"This API key expired after {record.expires_on:%Y-%m-%d}."
        )
    if record.environment != environment:
        label = Environment(record.environment).label.lower()
        return Refusal(
            401,
            "Wrong environment",
            f"This API key belongs to the {label} environment; call "
            f"/api/{record.environment}/v1/ with it.",
        )
    return None


@dataclass(frozen=True, slots=True)
class Cached:
    """A key record as a worker keeps it: trusted while the worker's lease holds and no change
    to the key has arrived, for at most MAX_RECORD_AGE after `loaded_at` (None: no such key)."""

    loaded_at: float  # time.monotonic()
    record: KeyRecord | None


class Verifier:
    """One per worker process: its cache of key records, kept current by the changes pushed to
    it (gateway.keystate), and the rate-limit tokens it holds."""

    def __init__(self) -> None:
        self._records: dict[str, Cached] = {}
        self._tokens: dict[str, list[int]] = {}  # key ID -> [window, next token, last token]
        self._lock = threading.Lock()
        self._generation = 0  # counts evictions: a refill racing with one is not stored
        self._lease: object = None

    def clear(self) -> None:
        self._evict(None)

    def _evict(self, key_ids: frozenset[str] | None) -> None:
        """Drop these records (None: all), and give back the tokens held for them."""
        with self._lock:
            self._generation += 1
            if key_ids is None:
                self._records.clear()
                unused, self._tokens = self._tokens, {}
            else:
                unused = {}
                for key_id in key_ids:
                    self._records.pop(key_id, None)
                    if (tokens := self._tokens.pop(key_id, None)) is not None:
                        unused[key_id] = tokens
        if unused and self._lease is not None:
            current = self._lease.state
            for key_id, (window, first, last) in unused.items():
                if last >= first:
                    current.refund(key_id, window, last - first + 1)

    def _trusted(self, current) -> bool:
        """Whether cached records may be trusted now (reading the changes that arrived)."""
        lease = self._lease
        if lease is None or lease.state is not current:
            if lease is not None:
                lease.close()
            lease = self._lease = current.subscribe(self._evict)
        return lease.trusted()

    def verify(self, key: str, environment: str) -> Verified | Refusal:
        parsed = keyformat.parse(key, with_checksum=False)
        if parsed is None or parsed.env not in ENVIRONMENT_OF_PREFIX:
            return INVALID
        key_id = parsed.key_id
        current = state()
        trusted = self._trusted(current)
        cached = self._records.get(key_id) if trusted else None
        if cached is not None and time.monotonic() - cached.loaded_at >= MAX_RECORD_AGE:
            cached = None
        # The checksum is checked before anything can query the database for the key, and
        # before hashing when nothing is cached; a key whose keyed hash matches a cached
        # record is genuine, so its checksum is right and is not computed again.
        if cached is None and not keyformat.checksum_matches(key):
            return INVALID
        digest = keyformat.hash_key(key)
        epoch_seconds = time.time()
        now = datetime.fromtimestamp(epoch_seconds, UTC)
        window = int(epoch_seconds) // WINDOW_SECONDS
        counted = None
        if cached is not None:
            record = cached.record
            if not _holds_secret(record, digest, now):
                return INVALID
            refusal = _state_refusal(record, environment, now.date())
            if refusal is not None:
                return refusal
        else:
            # A first sighting: one token is asked for before the query, so that its answer
            # travels while the database looks the key up; it is given back if refused.
            if trusted and not current.down():
                try:
                    counted = current.begin_grant(key_id, window, 1, 0)
                except StateUnavailable as exc:
                    warn_unavailable(exc)
                    trusted = False
            generation = self._generation
            record = _load(key_id)
            if trusted and generation == self._generation:
                with self._lock:
                    if len(self._records) >= settings.KEY_CACHE_SIZE:
                        self._records.clear()
                    self._records[key_id] = Cached(time.monotonic(), record)
            refusal = (
                INVALID
                if not _holds_secret(record, digest, now)
                else _state_refusal(record, environment, now.date())
            )
            if refusal is not None:
                if counted is not None:
                    with contextlib.suppress(StateUnavailable):
                        counted()
                        current.refund(key_id, window)
                return refusal
        used = None
        if counted is not None:
            with contextlib.suppress(StateUnavailable):
                used = counted()[0]
        elif trusted:
            used = self._take(current, record, window)
        reset = WINDOW_SECONDS - int(epoch_seconds) % WINDOW_SECONDS
        return Verified(record=record, limit=record.rate_limit, used=used, reset_seconds=reset)

    def _take(self, current, record: KeyRecord, window: int) -> int | None:
        """This request's token of the key's window: from the block this worker holds, or
        a new block from the shared counter. Above the limit: a number above it. None: the
        counter is unavailable (fail open)."""
        key_id = record.key_id
        with self._lock:
            tokens = self._tokens.get(key_id)
            if tokens is not None and tokens[0] == window and tokens[1] <= tokens[2]:
                tokens[1] += 1
                return tokens[1] - 1
        limit = record.rate_limit
        try:
            used, granted = current.grant(key_id, window, block_size(limit), limit)
        except StateUnavailable as exc:
            warn_unavailable(exc)
            return None
        if granted > 1:
            with self._lock:
                if len(self._tokens) >= settings.KEY_CACHE_SIZE:
                    self._tokens.clear()
                self._tokens[key_id] = [window, used - granted + 2, used]
        return used - granted + 1 if granted else used


verifier = Verifier()


def verify_service_key(key: str) -> Verified | Refusal:
    """A `kw_svc_` key for the system API. Looked up on every call (service traffic is light),
    so a revocation holds from the next request on in every process."""
    parsed = keyformat.parse(key)
    if parsed is None or parsed.env != "svc":
        return INVALID
    digest = keyformat.hash_key(key)
    found = (
        ServiceApiKey.objects.filter(key_id=parsed.key_id)
        .values_list("pk", "service_name", "secret_hash", "revoked_at", "expires_on")
        .first()
    )
    if found is None:
        hmac.compare_digest(digest, _DUMMY_HASH)
        return INVALID
    pk, service_name, secret_hash, revoked_at, expires_on = found
    if not hmac.compare_digest(digest, secret_hash):
        return INVALID
    epoch_seconds = time.time()
    if revoked_at is not None:
        return Refusal(401, "API key revoked", "This service API key has been revoked.")
    if expires_on is not None and expires_on < datetime.fromtimestamp(epoch_seconds, UTC).date():
        return Refusal(401, "API key expired", f"This service API key expired after {expires_on}.")
    record = ServiceRecord(
        pk=pk, key_id=parsed.key_id, name=service_name, rate_limit=settings.SERVICE_KEY_RATE_LIMIT
    )
    try:
        used, _ = state().grant(f"svc:{parsed.key_id}", int(epoch_seconds) // WINDOW_SECONDS, 1, 0)
    except StateUnavailable as exc:
        warn_unavailable(exc)
        used = None
    reset = WINDOW_SECONDS - int(epoch_seconds) % WINDOW_SECONDS
    return Verified(record=record, limit=record.rate_limit, used=used, reset_seconds=reset)
