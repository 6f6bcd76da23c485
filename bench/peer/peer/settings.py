"""The Django peer of the API benchmark: djangorestframework-api-key, configured as its README
shows, with nothing Keyward adds (no cache, no rate limit, no request log).

It keeps `django-admin startproject`'s middleware, as a deployment of the peer would, and
gives DRF no authentication classes, so a request pays only for the key check (its best case).
"""

import os

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-peer-only-0123456789-0123456789-0123456789")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework_api_key",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def _database(url: str) -> dict:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": parts.port or 5432,
        "CONN_MAX_AGE": None,  # as Keyward's benchmark: one connection per worker
    }


DATABASES = {
    "default": _database(
        os.environ.get("PEER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/keyward_peer")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
TEMPLATES = []
LOGGING = {"version": 1, "disable_existing_loggers": False}
