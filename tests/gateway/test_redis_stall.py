"""SECURITY.md 24: a stalled Redis (SIGSTOP: it keeps its sockets open and answers nothing)
never makes a revoked key work. While it stalls, workers verify against the database; a change
it could not hear of is queued and reaches it before anything else when it resumes, so a worker
that cached the key before the stall and made no request during it refuses the key too.

Each test starts its own redis-server and stops it with SIGSTOP; three `Verifier`s stand for
three workers that share only Redis and the database."""

import contextlib
import os
import signal
import socket
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from apikeys.models import ApiKey
from gateway import keystate
from gateway.verification import Verified, Verifier
from tests.helpers import csrf_token_for, free_port

pytestmark = pytest.mark.django_db(transaction=True)


def _works(worker: Verifier, key: str) -> bool:
    return isinstance(worker.verify(key, "production"), Verified)


@pytest.fixture
def warm_workers(redis_server, new_key):
    key = new_key()
    workers = [Verifier() for _ in range(3)]
    for worker in workers:
        assert _works(worker, key) and _works(worker, key)  # cached, version current
    return key, workers


def _stall(process) -> None:
    os.kill(process.pid, signal.SIGSTOP)


def _resume(process) -> None:
    os.kill(process.pid, signal.SIGCONT)


def test_a_revoke_from_the_portal_during_a_stall_holds_during_it_and_after(
    redis_server, warm_workers, client_for, developer, caplog
):
    key, (busy, also_busy, asleep) = warm_workers
    record = ApiKey.objects.get()
    client = client_for(developer)
    url = reverse("apikeys:revoke", args=["acme", record.key_id])
    token = csrf_token_for(client, url)
    _stall(redis_server)
    started = time.monotonic()
    response = client.post(url, headers={"X-CSRFToken": token})
    assert response.status_code == 302  # no HTMX: the revoke redirects
    assert time.monotonic() - started < 2  # the portal answers; the change waits in a queue
    assert ApiKey.objects.get().revoked_at is not None
    assert "queued and retried until Redis has it" in caplog.text
    # During the stall: the database decides, never the cached copy.
    assert not _works(busy, key)
    assert not _works(also_busy, key)
    _resume(redis_server)
    # After: even a worker that cached the key and made no request during the stall.
    assert not _works(asleep, key)
    assert not _works(busy, key)
    assert keystate.wait_published(timeout=15)


def test_a_revoke_from_the_command_line_reports_done_only_once_redis_has_it(
    redis_server, warm_workers
):
    key, (busy, _, asleep) = warm_workers
    key_id = ApiKey.objects.get().key_id
    out, done = StringIO(), threading.Event()

    def revoke() -> None:
        call_command("revoke_api_key", key_id, stderr=out)
        done.set()

    _stall(redis_server)
    thread = threading.Thread(target=revoke)
    thread.start()
    try:
        time.sleep(1.5)
        assert ApiKey.objects.get().revoked_at is not None  # committed...
        assert not done.is_set()  # ...but not reported done while Redis has not heard of it
        assert "waiting" in out.getvalue()
        assert not _works(busy, key)
    finally:
        _resume(redis_server)
    assert done.wait(timeout=15)
    thread.join()
    assert "Revoked Integration" in out.getvalue()
    assert not _works(asleep, key)
    assert not _works(busy, key)


def test_a_revoke_from_the_command_line_is_published_before_it_returns(redis_server, warm_workers):
    key, workers = warm_workers
    published = []
    real_publish = keystate.RedisState.publish

    def spy(self, key_ids, tenant):
        published.append(list(key_ids))
        return real_publish(self, key_ids, tenant)

    keystate.RedisState.publish = spy
    try:
        call_command("revoke_api_key", ApiKey.objects.get().key_id, stderr=StringIO())
    finally:
        keystate.RedisState.publish = real_publish
    assert published == [[ApiKey.objects.get().key_id]]
    assert keystate.state().pending() == 0
    assert not any(_works(worker, key) for worker in workers)


class _Link:
    """A TCP link to Redis that the test can cut (every connection reset, new ones refused)
    and restore, while Redis itself keeps its data: a network partition."""

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        self._listener.close()
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._target))
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def test_a_change_redis_could_not_hear_of_is_retried_until_it_has_it(
    redis_server, settings, new_key, developer
):
    from apikeys import services
    from tenants.models import Membership

    port = int(settings.REDIS_URL.rsplit(":", 1)[1].split("/")[0])
    link = _Link(port)
    settings.REDIS_URL = f"redis://127.0.0.1:{link.port}/0"
    keystate.reset_state()
    key = new_key()
    asleep = Verifier()
    assert _works(asleep, key) and _works(asleep, key)
    link.cut()
    services.api_key_revoke(
        key=ApiKey.objects.get(), membership=Membership.objects.get(user=developer)
    )
    assert keystate.state().pending() == 1  # not forgotten: queued
    time.sleep(0.3)
    link.restore()
    assert keystate.wait_published(timeout=10)
    # A worker that cached the key before the partition and made no request during it.
    assert not _works(asleep, key)
    link.cut()


def test_a_restarted_redis_never_matches_a_record_cached_before_it(redis_server, warm_workers):
    key, (worker, *_) = warm_workers
    keystate.state().reset()  # a restart without persistence: Redis is empty
    # The key's version counter starts again from nothing and reaches the value it had.
    ApiKey.objects.update(is_active=False)
    assert keystate.state().publish([ApiKey.objects.get().key_id], tenant=False)
    assert not _works(worker, key)


def test_a_writer_connects_before_its_commit_so_publishing_is_one_round_trip(
    redis_server, new_key, developer
):
    from django.db import transaction

    from apikeys import services
    from tenants.models import Membership

    new_key()
    keystate.reset_state()  # a fresh process: no connection yet
    state = keystate.state()
    with transaction.atomic():
        services.api_key_disable(
            key=ApiKey.objects.get(), membership=Membership.objects.get(user=developer)
        )
        assert getattr(state._local, "connection", None) is not None  # made before the commit
