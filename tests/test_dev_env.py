"""Operator commands in development: after `make run`'s setup step (scripts/dev-env writes
`.env`), `manage.py` commands typed as the README shows them work without DEBUG in the
environment; a deployment (SECRET_KEY set, or DEBUG=false) never reads that file, and no
other `.env` is ever read.

Each test runs a copy of the project's entry points (settings, manage.py, scripts) in a
temporary directory, the apps linked in, so that the `.env` written there is the one its
settings look for, and a developer's own `.env` is never touched."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COPIED = {"portal", "scripts", "manage.py"}  # settings and manage.py locate the project
SKIPPED = {".env", ".git", ".venv", "db.sqlite3", "var", "test-artifacts", "staticfiles"}
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789",
    "ALLOWED_HOSTS": "keyward.example.com",
    "EMAIL_HOST": "smtp.example.com",
}
# What the test run put into this process's environment must not leak in.
_CLEARED = {
    "DEBUG",
    "SECRET_KEY",
    "SECURE_SSL_REDIRECT",
    "ALLOWED_HOSTS",
    "EMAIL_HOST",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DATABASE_URL",
    "REDIS_URL",
}


@pytest.fixture
def checkout(tmp_path) -> Path:
    project = tmp_path / "keyward"
    project.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in SKIPPED or entry.name.startswith(".pytest"):
            continue
        if entry.name in COPIED:
            copy = shutil.copytree if entry.is_dir() else shutil.copy2
            copy(entry, project / entry.name)
        else:
            (project / entry.name).symlink_to(entry)
    return project


def _run(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    return subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=clean | {"SQLITE_PATH": str(project / "db.sqlite3")} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _setting(project: Path, expression: str, **env: str) -> str:
    result = _run(
        project,
        "manage.py",
        "shell",
        "-c",
        f"from django.conf import settings; print({expression})",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_after_the_dev_setup_operator_commands_work_without_debug_in_the_environment(checkout):
    # Before: what a newcomer met.
    before = _run(checkout, "manage.py", "create_api_key", "--help")
    assert before.returncode != 0 and "SECRET_KEY must be set" in before.stderr

    setup = _run(checkout, "scripts/dev-env")
    assert setup.returncode == 0, setup.stderr
    dev_env = checkout / ".env"
    assert (dev_env.stat().st_mode & 0o777) == 0o600  # it holds a secret
    key = dict(line.split("=", 1) for line in dev_env.read_text().splitlines() if "=" in line)[
        "SECRET_KEY"
    ]
    assert len(key) >= 50

    for command in ("create_api_key", "revoke_api_key", "purge_request_logs"):
        result = _run(checkout, "manage.py", command, "--help")
        assert result.returncode == 0, result.stderr
        assert "usage: manage.py" in result.stdout
    # The server `make run` starts (DEBUG=true set) and a command typed by hand share the
    # file's key, so a key made by one verifies in the other (the pepper derives from it).
    assert _setting(checkout, "settings.DEBUG, settings.SECRET_KEY") == f"True {key}"
    assert _setting(checkout, "settings.SECRET_KEY", DEBUG="true") == key
    # The shell's own variables win over the file.
    assert (
        _setting(checkout, "settings.KEYS_EXPIRING_SOON_DAYS", KEYS_EXPIRING_SOON_DAYS="9") == "9"
    )

    # Written once: running the setup again keeps the key.
    assert _run(checkout, "scripts/dev-env").returncode == 0
    assert f"SECRET_KEY={key}" in dev_env.read_text()


def test_production_settings_never_read_the_dev_file(checkout):
    assert _run(checkout, "scripts/dev-env").returncode == 0
    # A deployment sets SECRET_KEY: the file is ignored, even with DEBUG left unset.
    production = {name: value for name, value in PRODUCTION.items() if name != "DEBUG"}
    assert _setting(checkout, "settings.DEBUG", **production) == "False"
    deploy = _run(
        checkout, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION
    )
    assert deploy.returncode == 0, deploy.stderr + deploy.stdout
    # DEBUG=false without a SECRET_KEY still refuses to start: the file fills in nothing.
    refused = _run(checkout, "manage.py", "check", **(PRODUCTION | {"SECRET_KEY": ""}))
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr


def test_no_other_env_file_is_read(checkout):
    (checkout / ".env").write_text("DEBUG=true\nSECRET_KEY=" + "x" * 60 + "\n", encoding="utf-8")
    result = _run(checkout, "manage.py", "check")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
    # And the setup step leaves such a file alone.
    setup = _run(checkout, "scripts/dev-env")
    assert setup.returncode == 0 and "left alone" in setup.stdout
    assert (checkout / ".env").read_text().startswith("DEBUG=true")


def test_the_dev_file_cannot_switch_debug_off_or_carry_anything_but_variables(checkout):
    assert _run(checkout, "scripts/dev-env").returncode == 0
    dev_env = checkout / ".env"
    dev_env.write_text(dev_env.read_text().replace("DEBUG=true", "DEBUG=false"))
    result = _run(checkout, "manage.py", "check")
    assert result.returncode != 0 and "must say DEBUG=true" in result.stderr
    dev_env.write_text(dev_env.read_text().replace("DEBUG=false", "DEBUG=true") + "oops\n")
    result = _run(checkout, "manage.py", "check")
    assert result.returncode != 0 and "expected NAME=value" in result.stderr
