"""portal/settings.py fails loudly on bad values and is deploy-clean in production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.settings import env_bool, env_int

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789",
    "ALLOWED_HOSTS": "keyward.example.com",
    "EMAIL_HOST": "smtp.example.com",
}
# What portal/settings_test.py put into this process's environment must not leak in.
_TEST_ONLY = {
    "DEBUG",
    "SECRET_KEY",
    "SECURE_SSL_REDIRECT",
    "ALLOWED_HOSTS",
    "EMAIL_HOST",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    # The settings checks are about settings; they need no database or cache server.
    "DATABASE_URL",
    "REDIS_URL",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout


def test_without_a_secret_key_production_refuses_to_start():
    env = PRODUCTION | {"SECRET_KEY": ""}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_bad_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("KEYWARD_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="KEYWARD_FLAG"):
        env_bool("KEYWARD_FLAG", False)


def test_a_bad_integer_names_the_variable(monkeypatch):
    monkeypatch.setenv("KEYWARD_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="KEYWARD_NUMBER"):
        env_int("KEYWARD_NUMBER", 1)
    monkeypatch.setenv("KEYWARD_NUMBER", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("KEYWARD_NUMBER", 1)


def test_a_bad_redis_url_stops_start_up():
    result = _manage("check", **PRODUCTION, REDIS_URL="http://nope")
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


def test_argon2_hashes_passwords_in_production():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])",
        **PRODUCTION,
    )
    assert (
        result.stdout.strip().splitlines()[-1] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    )


def test_the_csp_allows_only_our_origin_and_nonced_scripts(admin, client_for):
    response = client_for(admin).get("/t/acme/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "unsafe-inline" not in policy


def test_the_pages_load_nothing_from_other_origins(admin, client_for):
    page = client_for(admin).get("/t/acme/").content.decode()
    assert "https://" not in page and "http://" not in page and "//cdn" not in page


def test_cache_follows_redis_url():
    expected = "RedisCache" if os.environ.get("REDIS_URL") else "LocMemCache"
    assert settings.CACHES["default"]["BACKEND"].endswith(expected)
