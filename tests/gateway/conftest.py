"""What the gateway's tests share: a private redis-server that a test may stall."""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from gateway import keystate
from tests.helpers import free_port


@pytest.fixture
def redis_server(settings, tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is needed for the stall tests (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    keystate.reset_state()
    yield process
    os.kill(process.pid, signal.SIGCONT)
    process.kill()
    process.wait()
    keystate.reset_state()
