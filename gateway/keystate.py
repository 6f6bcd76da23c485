"""Shared state behind API verification: key versions and rate-limit counters.

Every worker keeps the key records it has verified in local memory, so the hot path runs
no query. A record is used only while its *version token* is unchanged; the token comes
from a source every process sees:

- with Redis (`REDIS_URL`): a global epoch (bumped on any tenant change) and a per-key
  version (bumped on any change to the key), read in the same round trip that counts the
  request against the key's rate limit (one Lua script);
- without Redis: a small state file next to the database, replaced on every change, whose
  identity a worker checks with one `stat()` per request; counters live in local memory
  behind a lock (exact for one process: use Redis when running several).

Writers announce a change inside their transaction (`changed()`, called by the services,
never by a signal) and publish it right after the commit, before they report done; the
connection is made before the commit, so nothing slow sits between the two. A reader reads
the token *before* the database row, so a refill racing with a revocation can only store the
old row under the old token, which the next request sees is stale: the revoked state always
wins.

If Redis is unreachable or stalled the API keeps answering: a worker trusts a cached record
only while Redis answers, so every request is verified against the database meanwhile (no
cache), rate limits are not enforced (fail open), and a warning is logged at most once a
minute. A change that could not be published is not forgotten: a background thread keeps it
queued until Redis acknowledges it (its command waits in the socket of a stalled Redis and is
among the first it runs when it resumes; a restarted Redis starts a new epoch, which no cached
record matches).
"""

import atexit
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

logger = logging.getLogger("keyward.api")

WINDOW_SECONDS = 60
RETRY_AFTER_FAILURE = 2.0  # seconds before trying an unreachable Redis again
RETRY_WAIT = 10.0  # seconds a queued change waits for a stalled Redis before a new attempt
Token = Any  # opaque, compared with ==

# KEYS: rate-limit counter, per-key version, epoch. ARGV: counter TTL, whether to count.
_LUA = """
local count = 0
if ARGV[2] == '1' then
  count = redis.call('INCR', KEYS[1])
  if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
end
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  -- A new (or emptied) Redis: an epoch no earlier run had, so no cached record matches.
  local now = redis.call('TIME')
  redis.call('SET', KEYS[3], now[1] .. string.format('%06d', now[2]), 'NX')
  epoch = redis.call('GET', KEYS[3])
end
return {count, redis.call('GET', KEYS[2]), epoch}
"""

# KEYS: the epoch, then every version to bump (the epoch itself for a tenant-wide change).
_PUBLISH_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  local now = redis.call('TIME')
  redis.call('SET', KEYS[1], now[1] .. string.format('%06d', now[2]), 'NX')
end
for i = 2, #KEYS do redis.call('INCR', KEYS[i]) end
return #KEYS - 1
"""


class StateUnavailable(Exception):
    """The shared state (Redis) could not be reached."""


class _Connection:
    """One Redis connection speaking just enough RESP for the hot path's single round trip.

    Far less Python per call than redis-py's EVALSHA (measured in DEVELOPERS.md). Used for
    plain `redis://` URLs; TLS and sockets go through redis-py."""

    def __init__(self, host: str, port: int, db: int, password: str | None, timeout: float):
        import socket

        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = self._sock.makefile("rb")
        self._sent = self._received = 0
        # Sent without waiting: the next command's receive() reads (and drops) their replies,
        # and a command sent to a stalled Redis still waits in its socket, queued behind them.
        if password:
            self.send(b"AUTH", password.encode())
        if db:
            self.send(b"SELECT", str(db).encode())

    def send(self, *args: bytes) -> int:
        """Send one command without waiting; returns its number for receive()."""
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        self._sock.sendall(b"".join(out))
        self._sent += 1
        return self._sent

    def receive(self, number: int) -> object:
        """The reply to command `number`; replies to earlier ones nobody read are dropped."""
        while self._received < number - 1:
            self._received += 1
            with contextlib.suppress(_ReplyError):  # an error reply nobody waits for
                self._read()
        if self._received >= number:
            raise ConnectionError("the reply was already read")
        self._received += 1
        return self._read()

    def call(self, *args: bytes) -> object:
        return self.receive(self.send(*args))

    def _read(self) -> object:
        line = self._reader.readline()
        if not line:
            raise ConnectionError("Redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            data = self._reader.read(length + 2)
            return data[:-2]
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._read() for _ in range(count)]
        if kind in (b"+",):
            return rest
        raise _ReplyError(rest.decode(errors="replace"))

    def close(self) -> None:
        try:
            self._reader.close()
            self._sock.close()
        except OSError:
            pass


class _ReplyError(Exception):
    pass


class RedisState:
    def __init__(self, url: str, prefix: str) -> None:
        import hashlib
        from urllib.parse import urlsplit

        import redis

        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=0.25, socket_timeout=0.25, health_check_interval=30
        )
        self._script = self._client.register_script(_LUA)
        self._sha = hashlib.sha1(_LUA.encode()).hexdigest().encode()  # noqa: S324 - Redis' name
        parts = urlsplit(url)
        self._lean = parts.scheme == "redis" and parts.hostname is not None
        self._address = (
            parts.hostname,
            parts.port or 6379,
            int((parts.path or "/0").lstrip("/") or 0),
            parts.password,
        )
        self._local = threading.local()
        self._prefix = prefix
        self._epoch = f"{prefix}:epoch"
        self._down_until = 0.0
        self._retrier = _Retrier(url, self._address if self._lean else None)

    def _keys(self, key_id: str, window: int) -> list[str]:
        return [f"{self._prefix}:rl:{key_id}:{window}", f"{self._prefix}:kv:{key_id}", self._epoch]

    def _connection(self) -> _Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            host, port, db, password = self._address
            connection = self._local.connection = _Connection(host, port, db, password, 0.25)
        return connection

    def _unavailable(self, exc: BaseException) -> StateUnavailable:
        connection, self._local.connection = getattr(self._local, "connection", None), None
        if connection is not None:
            connection.close()
        self._down_until = time.monotonic() + RETRY_AFTER_FAILURE
        return StateUnavailable(str(exc) or type(exc).__name__)

    def begin(self, key_id: str, window: int, count: bool) -> Callable[[], tuple[int, Token]]:
        """Send the round trip that counts this request (if `count`) and reads the key's
        version token; the returned callable reads its answer (StateUnavailable if none).

        Sending early lets the answer travel while the caller does other work."""
        import redis

        if self._down_until and time.monotonic() < self._down_until:
            # Recently unreachable: do not make every request wait for a timeout.
            raise StateUnavailable("Redis was unreachable moments ago")
        keys = self._keys(key_id, window)
        args = [str(WINDOW_SECONDS + 1), "1" if count else "0"]
        if not self._lean:  # TLS or a socket: redis-py, one blocking call
            try:
                reply = self._script(keys=keys, args=args)
            except (redis.RedisError, OSError, ValueError) as exc:
                raise self._unavailable(exc) from exc
            return lambda: self._answer(reply)
        encoded = [b"3", *(key.encode() for key in keys), *(arg.encode() for arg in args)]
        try:
            connection = self._connection()
            number = connection.send(b"EVALSHA", self._sha, *encoded)
        except OSError as exc:
            raise self._unavailable(exc) from exc

        def answer() -> tuple[int, Token]:
            try:
                try:
                    reply = connection.receive(number)
                except _ReplyError as exc:
                    if not str(exc).startswith("NOSCRIPT"):
                        raise
                    reply = connection.call(b"EVAL", _LUA.encode(), *encoded)
                return self._answer(reply)
            except (OSError, _ReplyError, ValueError) as exc:
                raise self._unavailable(exc) from exc

        return answer

    def _answer(self, reply: list) -> tuple[int, Token]:
        used, key_version, epoch = reply
        self._down_until = 0.0
        return int(used), (epoch, key_version)

    def check(self, key_id: str, window: int, count: bool) -> tuple[int, Token]:
        """Count this request (if `count`) and read the key's version token, in one trip."""
        return self.begin(key_id, window, count)()

    def refund(self, key_id: str, window: int) -> None:
        """Give back a request counted by an early check that no endpoint logged (a health
        check, a 404). Sent without waiting: the next receive() drops its reply."""
        import redis

        name = self._keys(key_id, window)[0]
        try:
            if self._lean:
                self._connection().send(b"DECR", name.encode())
            else:
                self._client.decr(name)
        except (redis.RedisError, OSError) as exc:
            self._unavailable(exc)

    def warm(self) -> None:
        """Connect now, inside the writer's transaction, so that publishing after the commit
        costs one round trip and nothing else."""
        if self._lean:
            with contextlib.suppress(OSError):
                self._connection()

    def publish(self, key_ids: Iterable[str], tenant: bool) -> bool:
        """Bump the versions of `key_ids` (and the epoch if `tenant`). Returns whether Redis
        acknowledged; if not, the change is queued and retried until it does."""
        import redis

        names = [self._epoch, *(f"{self._prefix}:kv:{key_id}" for key_id in key_ids)]
        if tenant:
            names.append(self._epoch)
        if self._down_until and time.monotonic() < self._down_until:
            # Unreachable moments ago: queue it rather than make the writer wait again.
            self._retrier.add(names, StateUnavailable("Redis was unreachable moments ago"))
            return False
        try:
            if self._lean:
                connection = self._connection()
                connection.call(
                    b"EVAL", _PUBLISH_LUA.encode(), b"%d" % len(names), *map(str.encode, names)
                )
            else:
                self._client.eval(_PUBLISH_LUA, len(names), *names)
        except (redis.RedisError, OSError, _ReplyError, ValueError) as exc:
            # A stalled Redis still holds the command in its socket and runs it when it
            # resumes (closing our end does not withdraw it); the retrier makes sure.
            self._unavailable(exc)
            self._retrier.add(names, exc)
            return False
        return True

    def pending(self) -> int:
        """Changes not yet acknowledged by Redis."""
        return self._retrier.pending()

    def wait_published(self, timeout: float) -> bool:
        return self._retrier.wait(timeout)

    def reset(self) -> None:
        for name in self._client.scan_iter(f"{self._prefix}:*"):
            self._client.delete(name)


class _Retrier:
    """Keeps publishing the changes Redis did not acknowledge, oldest first, until it does.

    Each attempt sends its command and waits up to RETRY_WAIT seconds for the answer: a
    stalled Redis keeps the command queued in its socket and runs it first thing when it
    resumes; a Redis that is down gets a new attempt after a short pause."""

    def __init__(self, url: str, lean_address: tuple | None) -> None:
        self._url = url
        self._lean_address = lean_address
        self._queue: list[list[str]] = []
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, names: list[str], exc: BaseException) -> None:
        logger.warning(
            "Could not publish a change to API keys (%s); it is queued and retried until "
            "Redis has it. Meanwhile workers that reach Redis verify against the database.",
            str(exc) or type(exc).__name__,
        )
        with self._condition:
            self._queue.append(names)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="keyward-publish", daemon=True
                )
                self._thread.start()

    def pending(self) -> int:
        with self._condition:
            return len(self._queue)

    def wait(self, timeout: float) -> bool:
        """Wait until every queued change is acknowledged (True) or `timeout` passes."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._queue, timeout)

    def _send(self, names: list[str]) -> None:
        if self._lean_address is not None:
            host, port, db, password = self._lean_address
            connection = _Connection(host, port, db, password, RETRY_WAIT)
            try:
                connection.call(
                    b"EVAL", _PUBLISH_LUA.encode(), b"%d" % len(names), *map(str.encode, names)
                )
            finally:
                connection.close()
        else:
            import redis

            client = redis.Redis.from_url(
                self._url, socket_connect_timeout=RETRY_WAIT, socket_timeout=RETRY_WAIT
            )
            try:
                client.eval(_PUBLISH_LUA, len(names), *names)
            finally:
                client.close()

    def _run(self) -> None:
        pause = 0.05
        while True:
            with self._condition:
                batch = list(self._queue)
            if not batch:
                return
            names = [name for names in batch for name in names]
            try:
                self._send(names)
            except Exception as exc:  # whatever failed, the change is tried again
                logger.debug("Publishing queued API key changes failed again: %s", exc)
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
                continue
            pause = 0.05
            with self._condition:
                del self._queue[: len(batch)]
                self._condition.notify_all()
            logger.warning("Published %d queued change(s) to API keys.", len(batch))


class LocalState:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, int], int] = {}

    def _token(self) -> Token:
        try:
            stat = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def check(self, key_id: str, window: int, count: bool) -> tuple[int, Token]:
        return self.begin(key_id, window, count)()

    def begin(self, key_id: str, window: int, count: bool) -> Callable[[], tuple[int, Token]]:
        """Answered at once: nothing travels."""
        used = 0
        if count:
            with self._lock:
                used = self._counters.get((key_id, window), 0) + 1
                self._counters[(key_id, window)] = used
                if len(self._counters) > 100_000:  # drop finished windows
                    self._counters = {k: v for k, v in self._counters.items() if k[1] >= window}
        result = used, self._token()
        return lambda: result

    def refund(self, key_id: str, window: int) -> None:
        with self._lock:
            if self._counters.get((key_id, window), 0) > 0:
                self._counters[(key_id, window)] -= 1

    def _bump(self) -> None:
        # A new file (new inode) on every change: visible to every process at once.
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_name(f"{self._path.name}.{os.getpid()}.{time.time_ns()}")
        temporary.write_text(str(time.time_ns()))
        os.replace(temporary, self._path)

    def warm(self) -> None:
        pass

    def publish(self, key_ids: Iterable[str], tenant: bool) -> bool:
        self._bump()
        return True

    def pending(self) -> int:
        return 0

    def wait_published(self, timeout: float) -> bool:
        return True

    def reset(self) -> None:
        with self._lock:
            self._counters.clear()
        self._bump()


_state: RedisState | LocalState | None = None
_state_lock = threading.Lock()


def state() -> RedisState | LocalState:
    global _state
    if _state is None:
        with _state_lock:
            if _state is None:
                if settings.REDIS_URL:
                    _state = RedisState(settings.REDIS_URL, settings.KEY_STATE_PREFIX)
                else:
                    _state = LocalState(Path(settings.KEY_STATE_FILE))
    return _state


def reset_state() -> None:
    """Forget the configured state backend (tests that change settings)."""
    global _state
    _state = None


_last_warning = 0.0


def warn_unavailable(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.warning(
            "Redis is unreachable (%s): API keys are verified against the database and rate "
            "limits are not enforced until it is back.",
            exc,
        )


def changed(*, key_ids: Iterable[str] = (), tenant: bool = False) -> None:
    """Announce, inside the transaction that makes it, a change that can alter a verification:
    to these keys, or (`tenant`) to a tenant or its key policy. It is published right after
    the commit, before the writer returns, over a connection made now."""
    key_ids = list(key_ids)
    if not key_ids and not tenant:
        return
    try:
        state().warm()
    except Exception:
        logger.exception("Could not connect to publish a change to API keys")
    transaction.on_commit(lambda: _publish(key_ids, tenant))


def _publish(key_ids: list[str], tenant: bool) -> None:
    try:
        state().publish(key_ids, tenant)
    except Exception:
        # The change is committed; a failure here must not turn the writer's answer into an
        # error. (publish() queues what Redis did not acknowledge; this is the unexpected.)
        logger.exception("Could not publish a change to API keys %s", key_ids or "(tenant)")


def wait_published(timeout: float) -> bool:
    """Wait until Redis has acknowledged every change this process made (True), or `timeout`."""
    return state().wait_published(timeout)


@atexit.register
def _publish_at_exit() -> None:
    # A process that stops (a command, a restarted worker) first gives its queued changes a
    # moment; a command it already sent waits in a stalled Redis' socket regardless.
    if _state is not None and _state.pending():
        _state.wait_published(2.0)
