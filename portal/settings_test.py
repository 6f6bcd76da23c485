"""Test settings: production settings with the few changes a test run needs."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-" + "k" * 60)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from portal.settings import *  # noqa: F403

# Argon2 is right for real passwords and needlessly slow for thousands of test sign-ins.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No collectstatic before a test run; the browser talks plain HTTP to the live server.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# Tests write the request log explicitly (gateway.usage.buffer.flush()), not from a thread.
API_LOG_BACKGROUND = False
# Each test run (and each xdist worker) gets its own key-state file.
KEY_STATE_FILE = Path(tempfile.gettempdir()) / f"keyward-test-key-state-{os.getpid()}"

# Jobs run at once in tests, except where a test runs the real database queue and worker.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = Path(
    os.environ.get("MEDIA_ROOT")
    or Path(tempfile.gettempdir()) / f"keyward-test-media-{os.getpid()}"
)
