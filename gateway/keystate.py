"""Shared state behind API verification: which cached key records a worker may trust, and
rate-limit counters.

Every worker keeps the key records it has verified in local memory, so the warm path runs no
query. Whether a cached record may still be trusted comes from a source every process sees:

- with Redis (`REDIS_URL`): **pushed changes under a lease**. Each worker (each `Verifier`)
  subscribes to one channel; writers publish the IDs of the keys they changed there (`*` for
  a tenant-wide change). A worker reads what has arrived without blocking at each request and
  drops those records. It trusts its cache only while it holds a *lease*: the answer to a
  `PING` it sent on that same subscription less than `KEY_LEASE_MS` ago. Redis delivers a
  subscription's messages in order, so that answer proves every change published before the
  `PING` was sent has been read. A writer that published to at least one subscriber waits one
  lease period before it reports done. Hence (README, "What revocation promises"): a request
  that starts after the writer returned finds either the change already read, or its lease
  expired, and renews it by a round trip that reads the change first. Durations are measured
  by each host on its own monotonic clock; no clocks need to agree.
- without Redis: a small state file next to the database, replaced on every change, whose
  identity a worker checks with one `stat()` per request; counters live in local memory
  behind a lock (exact for one process: use Redis when running several).

Rate limits with Redis lease *blocks* of tokens from the window's counter (one Lua script
that never grants past the limit): one token at a time for small limits (exact), up to
limit/64 for large ones, so a busy key makes a round trip every few hundred requests and is
never admitted over its limit (at most (workers - 1) * limit/64 of a window's tokens can sit
unused in other workers when one runs out).

Writers announce a change inside their transaction (`changed()`, called by the services,
never by a signal) and publish it right after the commit, before they report done; the
connection is made before the commit, so nothing slow sits between the two.

If Redis is unreachable or stalled the API keeps answering: a lease cannot be renewed, so
every request is verified against the database meanwhile (no cache), rate limits are not
enforced (fail open), and a warning is logged at most once a minute. A change that could not
be published is not forgotten: a background thread keeps it queued until Redis acknowledges
it (its command waits in the socket of a stalled Redis and is among the first it runs when
it resumes). A worker that (re)subscribes starts with an empty cache: it may have missed what
was published while it was not listening.
"""

import atexit
import contextlib
import logging
import os
import select
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from django.db import transaction

logger = logging.getLogger("keyward.api")

WINDOW_SECONDS = 60
TIMEOUT = 0.25  # seconds: a Redis that has not answered by then is treated as unavailable
RETRY_AFTER_FAILURE = 2.0  # seconds before trying an unreachable Redis again
RETRY_WAIT = 10.0  # seconds a queued change waits for a stalled Redis before a new attempt
EVERYTHING = "*"  # the message of a tenant-wide change: every cached record is dropped

Evict = Callable[[frozenset[str] | None], None]  # key IDs to drop (None: every record)

# KEYS: the window's counter. ARGV: its TTL, tokens wanted, the key's limit (0: no cap, for
# the one token counted before a first sighting's record, and its limit, is known).
# Never grants past the limit; a request refused for it is not counted.
_GRANT_LUA = """
local want, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if limit > 0 then
  want = math.min(want, limit - used)
  if want <= 0 then return {used + 1, 0} end
end
used = redis.call('INCRBY', KEYS[1], want)
if used == want then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {used, want}
"""
# KEYS: the window's counter. ARGV: tokens given back.
_REFUND_LUA = """
if redis.call('DECRBY', KEYS[1], ARGV[1]) <= 0 then redis.call('DEL', KEYS[1]) end
return 0
"""


def lease_seconds() -> float:
    return settings.KEY_LEASE_MS / 1000


def block_size(limit: int) -> int:
    """Tokens a worker takes from Redis at once: 1 below 128 a minute (exact), limit/64 above."""
    return max(1, limit // 64)


class StateUnavailable(Exception):
    """The shared state (Redis) could not be reached."""


class _ReplyError(Exception):
    pass


class _Incomplete(Exception):
    pass


def _parse(buffer: bytes | bytearray, pos: int) -> tuple[object, int]:
    """One RESP2 reply from `buffer` at `pos`: (value, position after it); _Incomplete if it
    has not all arrived yet; an error reply is returned as a _ReplyError."""
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        raise _Incomplete
    kind, line, pos = buffer[pos], bytes(buffer[pos + 1 : end]), end + 2
    if kind == 0x2A:  # '*': an array
        items = []
        for _ in range(int(line)):
            item, pos = _parse(buffer, pos)
            items.append(item)
        return items, pos
    if kind == 0x24:  # '$': a bulk string
        length = int(line)
        if length < 0:
            return None, pos
        if len(buffer) < pos + length + 2:
            raise _Incomplete
        return bytes(buffer[pos : pos + length]), pos + length + 2
    if kind == 0x3A:  # ':'
        return int(line), pos
    if kind == 0x2B:  # '+'
        return line, pos
    return _ReplyError(line.decode(errors="replace")), pos


def _command(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class _Connection:
    """One Redis connection speaking just enough RESP for the API's few round trips.

    Far less Python per call than redis-py's EVALSHA (measured in DEVELOPERS.md). Used for
    plain `redis://` URLs; TLS and sockets go through redis-py."""

    def __init__(self, host: str, port: int, db: int, password: str | None, timeout: float):
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
        self._sock.sendall(_command(*args))
        self._sent += 1
        return self._sent

    def receive(self, number: int) -> object:
        """The reply to command `number`; replies to earlier ones nobody read are dropped."""
        while self._received < number - 1:
            self._received += 1
            self._read()  # an error reply nobody waits for is dropped too
        if self._received >= number:
            raise ConnectionError("the reply was already read")
        self._received += 1
        reply = self._read()
        if isinstance(reply, _ReplyError):
            raise reply
        return reply

    def call(self, *args: bytes) -> object:
        return self.receive(self.send(*args))

    def _read(self) -> object:
        line = self._reader.readline()
        if not line:
            raise ConnectionError("Redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"$":
            length = int(rest)
            return None if length < 0 else self._reader.read(length + 2)[:-2]
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._read() for _ in range(count)]
        return _parse(line, 0)[0]

    def close(self) -> None:
        try:
            self._reader.close()
            self._sock.close()
        except OSError:
            pass


class _Lease:
    """One worker's subscription to the change channel, and the lease that says whether its
    cached records may be trusted (the module's docstring has the argument).

    `trusted()` is called at every verification: it reads what has arrived without blocking,
    drops the records it names, sends a `PING` ahead when the lease runs low (its answer
    arrives while the worker serves the next requests) and, when the lease has run out,
    renews it by one round trip. Subclasses move the bytes."""

    def __init__(self, state: "RedisState", evict: Evict) -> None:
        self.state = state
        self._evict = weakref.WeakMethod(evict) if hasattr(evict, "__self__") else lambda: evict
        self._lock = threading.Lock()
        self._pings: deque[tuple[int, float]] = deque()  # (number, monotonic time sent)
        self._number = 0
        self._lease_until = 0.0
        self._connected = False
        self._lease = lease_seconds()

    def trusted(self) -> bool:
        with self._lock:
            now = time.monotonic()
            try:
                if not self._connected:
                    if self.state.down():
                        return False
                    self._subscribe(now)
                else:
                    self._handle(self._events(0.0))
                if now < self._lease_until:
                    if not self._pings and self._lease_until - now < self._lease / 2:
                        self._ping(now)  # renewed ahead: the answer comes with a later request
                    return True
                if self.state.down():
                    self._drop()
                    return False
                self._renew()
                return True
            except (OSError, ValueError, _ReplyError) as exc:
                self._drop()
                warn_unavailable(self.state.unavailable(exc))
                return False

    def _subscribe(self, now: float) -> None:
        self._connect()
        self._connected = True
        self._pings.clear()
        self._lease_until = 0.0
        self._forget(None)  # whatever was published while nobody listened is unknown
        self._renew()

    def _renew(self) -> None:
        """Send a PING and wait for its answer (and everything published before it)."""
        number = self._ping(time.monotonic())
        deadline = time.monotonic() + TIMEOUT
        while self._pings and self._pings[0][0] <= number:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Redis did not answer the subscription's PING")
            self._handle(self._events(left))

    def _ping(self, now: float) -> int:
        self._number += 1
        self._pings.append((self._number, now))
        self._send_ping(self._number)
        return self._number

    def _handle(self, events: list[tuple[str, bytes]]) -> None:
        for kind, data in events:
            if kind == "message":
                text = data.decode()
                self._forget(None if text == EVERYTHING else frozenset(text.split()))
            elif kind == "pong" and data.isdigit():  # not redis-py's own health checks
                answered = int(data)
                while self._pings and self._pings[0][0] <= answered:
                    number, sent = self._pings.popleft()
                    if number == answered:
                        self._lease_until = max(self._lease_until, sent + self._lease)

    def _forget(self, key_ids: frozenset[str] | None) -> None:
        evict = self._evict()
        if evict is not None:
            evict(key_ids)

    def _drop(self) -> None:
        self._connected = False
        self._lease_until = 0.0
        self._pings.clear()
        with contextlib.suppress(Exception):
            self._close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    # Moving the bytes.
    def _connect(self) -> None:
        raise NotImplementedError

    def _send_ping(self, number: int) -> None:
        raise NotImplementedError

    def _events(self, timeout: float) -> list[tuple[str, bytes]]:
        """What has arrived, waiting up to `timeout` seconds for something if nothing has."""
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class _SocketLease(_Lease):
    """The lease over a raw socket (plain `redis://`): a non-blocking read per request."""

    _sock: socket.socket | None = None

    def _connect(self) -> None:
        host, port, _, password = self.state.address
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self._sock, self._buffer = sock, bytearray()
        hello = [_command(b"AUTH", password.encode())] if password else []
        hello.append(_command(b"SUBSCRIBE", self.state.channel.encode()))
        sock.sendall(b"".join(hello))

    def _send_ping(self, number: int) -> None:
        self._sock.sendall(_command(b"PING", b"%d" % number))

    def _events(self, timeout: float) -> list[tuple[str, bytes]]:
        sock, buffer = self._sock, self._buffer
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            if timeout <= 0:
                return []
            readable, _, _ = select.select([sock], [], [], timeout)
            if not readable:
                return []
            chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("Redis closed the subscription")
        buffer += chunk
        events, pos = [], 0
        while pos < len(buffer):
            try:
                reply, pos_after = _parse(buffer, pos)
            except _Incomplete:
                break
            pos = pos_after
            if isinstance(reply, _ReplyError):
                raise reply
            if isinstance(reply, list) and reply and reply[0] in (b"message", b"pong"):
                events.append((reply[0].decode(), reply[-1]))
        del buffer[:pos]
        return events

    def _close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class _RedisPyLease(_Lease):
    """The same lease through redis-py's PubSub (TLS, Unix sockets)."""

    _pubsub = None

    def _connect(self) -> None:
        self._pubsub = self.state.client.pubsub()
        self._pubsub.subscribe(self.state.channel)

    def _send_ping(self, number: int) -> None:
        self._pubsub.ping(message=str(number))

    def _events(self, timeout: float) -> list[tuple[str, bytes]]:
        import redis

        events = []
        try:
            message = self._pubsub.get_message(timeout=timeout)
            while message is not None:
                kind, data = message["type"], message["data"]
                if kind in ("message", "pong"):
                    events.append((kind, data if isinstance(data, bytes) else str(data).encode()))
                message = self._pubsub.get_message(timeout=0.0)
        except redis.RedisError as exc:
            raise ConnectionError(str(exc)) from exc
        return events

    def _close(self) -> None:
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None


class RedisState:
    def __init__(self, url: str, prefix: str) -> None:
        import hashlib
        from urllib.parse import urlsplit

        import redis

        self.url = url
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT, health_check_interval=30
        )
        self._grant_sha = hashlib.sha1(_GRANT_LUA.encode()).hexdigest().encode()  # noqa: S324
        parts = urlsplit(url)
        self._lean = parts.scheme == "redis" and parts.hostname is not None
        self.address = (
            parts.hostname,
            parts.port or 6379,
            int((parts.path or "/0").lstrip("/") or 0),
            parts.password,
        )
        # Pub/sub ignores databases: the channel names its database as well as the prefix.
        self.channel = f"{prefix}:{self.client.get_connection_kwargs().get('db', 0)}:changes"
        self._local = threading.local()
        self._prefix = prefix
        self._down_until = 0.0
        self._leases: weakref.WeakSet[_Lease] = weakref.WeakSet()
        self._retrier = _Retrier(self)

    def subscribe(self, evict: Evict) -> _Lease:
        """A subscription (and its lease) for one worker's cache."""
        lease = (_SocketLease if self._lean else _RedisPyLease)(self, evict)
        self._leases.add(lease)
        return lease

    def down(self) -> bool:
        """Unreachable moments ago: do not make every request wait for a timeout."""
        return bool(self._down_until) and time.monotonic() < self._down_until

    def unavailable(self, exc: BaseException) -> StateUnavailable:
        connection, self._local.connection = getattr(self._local, "connection", None), None
        if connection is not None:
            connection.close()
        self._down_until = time.monotonic() + RETRY_AFTER_FAILURE
        return StateUnavailable(str(exc) or type(exc).__name__)

    def _counter(self, key_id: str, window: int) -> str:
        return f"{self._prefix}:rl:{key_id}:{window}"

    def _connection(self) -> _Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            host, port, db, password = self.address
            connection = self._local.connection = _Connection(host, port, db, password, TIMEOUT)
        return connection

    def begin_grant(
        self, key_id: str, window: int, want: int, limit: int
    ) -> Callable[[], tuple[int, int]]:
        """Send the request for `want` tokens of the key's window (at most up to `limit`;
        0: no cap); the returned callable reads the answer, (tokens used in the window after
        this grant, tokens granted): StateUnavailable if there is none. Sending early lets
        the answer travel while the caller queries the database."""
        import redis

        if self.down():
            raise StateUnavailable("Redis was unreachable moments ago")
        args = [
            self._counter(key_id, window).encode(),
            b"%d" % (WINDOW_SECONDS + 1),
            b"%d" % want,
            b"%d" % limit,
        ]
        if not self._lean:  # TLS or a socket: redis-py, one blocking call
            try:
                reply = self.client.eval(_GRANT_LUA, 1, *args)
            except (redis.RedisError, OSError, ValueError) as exc:
                raise self.unavailable(exc) from exc
            return lambda: self._granted(reply)
        try:
            connection = self._connection()
            number = connection.send(b"EVALSHA", self._grant_sha, b"1", *args)
        except OSError as exc:
            raise self.unavailable(exc) from exc

        def answer() -> tuple[int, int]:
            try:
                try:
                    reply = connection.receive(number)
                except _ReplyError as exc:
                    if not str(exc).startswith("NOSCRIPT"):
                        raise
                    reply = connection.call(b"EVAL", _GRANT_LUA.encode(), b"1", *args)
                return self._granted(reply)
            except (OSError, _ReplyError, ValueError) as exc:
                raise self.unavailable(exc) from exc

        return answer

    def _granted(self, reply: list) -> tuple[int, int]:
        used, granted = reply
        self._down_until = 0.0
        return int(used), int(granted)

    def grant(self, key_id: str, window: int, want: int, limit: int) -> tuple[int, int]:
        return self.begin_grant(key_id, window, want, limit)()

    def refund(self, key_id: str, window: int, tokens: int = 1) -> None:
        """Give back tokens nobody will use (a first sighting's that was refused, a block
        whose key changed). Sent without waiting: the next receive() drops its reply."""
        import redis

        args = [self._counter(key_id, window).encode(), b"%d" % tokens]
        try:
            if self._lean:
                self._connection().send(b"EVAL", _REFUND_LUA.encode(), b"1", *args)
            else:
                self.client.eval(_REFUND_LUA, 1, *args)
        except (redis.RedisError, OSError) as exc:
            self.unavailable(exc)

    def warm(self) -> None:
        """Connect now, inside the writer's transaction, so that publishing after the commit
        costs one round trip and nothing else."""
        if self._lean:
            with contextlib.suppress(OSError):
                self._connection()

    def publish(self, key_ids: Iterable[str], tenant: bool) -> bool:
        """Tell every worker that these keys (or, with `tenant`, every key) changed, and
        return once none can still trust an older record: Redis delivered the message to
        every subscriber and one lease has passed since. Returns whether Redis acknowledged;
        if not, the change is queued and retried until it does."""
        import redis

        message = EVERYTHING if tenant else " ".join(key_ids)
        if self.down():
            # Unreachable moments ago: queue it rather than make the writer wait again.
            self._retrier.add(message, StateUnavailable("Redis was unreachable moments ago"))
            return False
        try:
            receivers = self._send_publish(message, self._connection() if self._lean else None)
        except (redis.RedisError, OSError, _ReplyError, ValueError) as exc:
            # A stalled Redis still holds the command in its socket and runs it when it
            # resumes (closing our end does not withdraw it); the retrier makes sure.
            self.unavailable(exc)
            self._retrier.add(message, exc)
            return False
        self._down_until = 0.0
        if receivers:
            wait_out_leases()
        return True

    def _send_publish(self, message: str, connection: _Connection | None) -> int:
        if connection is not None:
            return int(connection.call(b"PUBLISH", self.channel.encode(), message.encode()))
        return int(self.client.publish(self.channel, message))

    def pending(self) -> int:
        """Changes not yet acknowledged by Redis."""
        return self._retrier.pending()

    def wait_published(self, timeout: float) -> bool:
        return self._retrier.wait(timeout)

    def reset(self) -> None:
        for name in self.client.scan_iter(f"{self._prefix}:*"):
            self.client.delete(name)

    def close(self) -> None:
        """Close every subscription (a test that changes settings, a process that stops)."""
        for lease in list(self._leases):
            lease.close()


def wait_out_leases() -> None:
    """Sleep one lease period (with a margin for two hosts' clocks running at slightly
    different rates): afterwards no worker trusts a record on a lease taken before now."""
    time.sleep(lease_seconds() * 1.05 + 0.001)


class _Retrier:
    """Keeps publishing the changes Redis did not acknowledge, oldest first, until it does.

    Each attempt sends its command and waits up to RETRY_WAIT seconds for the answer: a
    stalled Redis keeps the command queued in its socket and runs it first thing when it
    resumes; a Redis that is down gets a new attempt after a short pause."""

    def __init__(self, state: RedisState) -> None:
        self._state = state
        self._queue: list[str] = []
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, message: str, exc: BaseException) -> None:
        logger.warning(
            "Could not publish a change to API keys (%s); it is queued and retried until "
            "Redis has it. Meanwhile workers that reach Redis verify against the database.",
            str(exc) or type(exc).__name__,
        )
        with self._condition:
            self._queue.append(message)
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

    def _send(self, message: str) -> int:
        state = self._state
        if state._lean:
            host, port, db, password = state.address
            connection = _Connection(host, port, db, password, RETRY_WAIT)
            try:
                return state._send_publish(message, connection)
            finally:
                connection.close()
        import redis

        client = redis.Redis.from_url(
            state.url, socket_connect_timeout=RETRY_WAIT, socket_timeout=RETRY_WAIT
        )
        try:
            return int(client.publish(state.channel, message))
        finally:
            client.close()

    def _run(self) -> None:
        pause = 0.05
        while True:
            with self._condition:
                batch = list(self._queue)
            if not batch:
                return
            everything = EVERYTHING in batch
            message = EVERYTHING if everything else " ".join(" ".join(batch).split())
            try:
                receivers = self._send(message)
            except Exception as exc:  # whatever failed, the change is tried again
                logger.debug("Publishing queued API key changes failed again: %s", exc)
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
                continue
            pause = 0.05
            if receivers:
                wait_out_leases()
            with self._condition:
                del self._queue[: len(batch)]
                self._condition.notify_all()
            logger.warning("Published %d queued change(s) to API keys.", len(batch))


class _FileWatch:
    """Without Redis: the state file's identity, checked with one stat() per request; any
    change drops every cached record."""

    def __init__(self, state: "LocalState", evict: Evict) -> None:
        self.state = state
        self._evict = weakref.WeakMethod(evict) if hasattr(evict, "__self__") else lambda: evict
        self._token: object = None

    def trusted(self) -> bool:
        token = self.state.token()
        if token != self._token:
            self._token = token
            evict = self._evict()
            if evict is not None:
                evict(None)
        return True

    def close(self) -> None:
        pass


class LocalState:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, int], int] = {}

    def token(self) -> object:
        try:
            stat = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def subscribe(self, evict: Evict) -> _FileWatch:
        return _FileWatch(self, evict)

    def down(self) -> bool:
        return False

    def grant(self, key_id: str, window: int, want: int, limit: int) -> tuple[int, int]:
        """One token at a time: counting is a local increment, nothing travels."""
        with self._lock:
            used = self._counters.get((key_id, window), 0)
            if limit and used >= limit:
                return used + 1, 0
            self._counters[(key_id, window)] = used + 1
            if len(self._counters) > 100_000:  # drop finished windows
                self._counters = {k: v for k, v in self._counters.items() if k[1] >= window}
        return used + 1, 1

    def begin_grant(
        self, key_id: str, window: int, want: int, limit: int
    ) -> Callable[[], tuple[int, int]]:
        result = self.grant(key_id, window, want, limit)
        return lambda: result

    def refund(self, key_id: str, window: int, tokens: int = 1) -> None:
        with self._lock:
            left = self._counters.get((key_id, window), 0) - tokens
            if left > 0:
                self._counters[(key_id, window)] = left
            else:
                self._counters.pop((key_id, window), None)

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

    def close(self) -> None:
        pass


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
    if _state is not None:
        _state.close()
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
    # Changes made in one transaction are published together, after its commit: one message
    # and one lease period for a member's fifty keys, not fifty.
    pending = getattr(_pending, "changes", None)
    if pending is None:
        pending = _pending.changes = [set(), False]
    pending[0].update(key_ids)
    pending[1] = pending[1] or tenant
    transaction.on_commit(_publish_pending)


_pending = threading.local()


def _publish_pending() -> None:
    pending = getattr(_pending, "changes", None)
    if pending is None:  # published by an earlier callback of the same commit
        return
    _pending.changes = None
    _publish(sorted(pending[0]), pending[1])


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
