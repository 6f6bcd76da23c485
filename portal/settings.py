"""Keyward settings: one module, driven by environment variables.

Development defaults are safe to run on a laptop; anything set wrongly fails at start-up
with a message that names the variable, rather than being silently ignored.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Development: `make run` writes `.env` (scripts/dev-env) with DEBUG=true and a SECRET_KEY of
# its own, so that `manage.py` commands typed by hand work as the server does. It is read only
# when it is that file (its first line) and the environment looks like no deployment: neither
# SECRET_KEY nor DEBUG=false set. A deployment must set SECRET_KEY (start-up fails without it),
# so the file can only turn a start that would fail into a development one. What the
# environment sets wins over the file. No other `.env` is ever read.
DEV_ENV_FILE = BASE_DIR / ".env"
DEV_ENV_HEADER = "# Keyward development settings (scripts/dev-env, make run): not for production."


def read_dev_env(path: Path) -> dict[str, str]:
    """The variables of the development file at `path`, or {} when it must not be read."""
    if os.environ.get("SECRET_KEY") or os.environ.get("DEBUG", "").strip().lower() in _FALSE - {""}:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    lines = text.splitlines()
    if not lines or lines[0] != DEV_ENV_HEADER:
        return {}
    values = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip().isidentifier():
            raise ImproperlyConfigured(f"{path}, line {number}: expected NAME=value")
        values[name.strip()] = value.strip()
    if values.get("DEBUG", "").lower() not in _TRUE:
        raise ImproperlyConfigured(
            f"{path} is the development settings file and must say DEBUG=true; "
            "configure a deployment with environment variables instead"
        )
    return values


for _name, _value in read_dev_env(DEV_ENV_FILE).items():
    os.environ.setdefault(_name, _value)

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
elif len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "portal.apps.SystemAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "axes",
    # Second factors (accounts.two_factor): TOTP and recovery codes from django-otp; the
    # passkey device is accounts.Passkey, verified by py_webauthn.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The ladder, lowest first: an app imports only the apps listed before it.
    "accounts",
    "tenants",
    "apikeys",
    "gateway",
    "leaks",
    "customers",
    "jobs",
    "api",
    "demo",
    "django_tasks_db",
]

# Background jobs: Django's tasks framework on a durable, database-backed queue, run by
# `python manage.py db_worker` (make run starts one).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
JOB_RETENTION_DAYS = env_int("JOB_RETENTION_DAYS", 30, minimum=1)
# How often each worker creates the request log's day partitions ahead (PostgreSQL).
REQUEST_LOG_PARTITION_SECONDS = env_int("REQUEST_LOG_PARTITION_SECONDS", 3600, minimum=60)

MIDDLEWARE = [
    # First: an `/api/` request leaves this list here and goes through API_MIDDLEWARE.
    "portal.middleware.ApiRouteMiddleware",
    # A NUL in the URL, a form in another charset: a 400 before anything reads them.
    "web.inputs.MalformedRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session passed a second factor (the system admin site).
    "django_otp.middleware.OTPMiddleware",
    # The profile's list of sessions: last seen once a minute; a session ended elsewhere ends.
    "accounts.sessions.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.SystemAdminHostMiddleware",
    # Last, so that a locked-out sign-in gets axes' answer.
    "axes.middleware.AxesMiddleware",
]

# What an `/api/` request passes through instead of MIDDLEWARE. A bearer-key API has no use
# for sessions, user authentication, messages, CSRF (its views are exempt), the portal's
# CSP, HTMX or sign-in throttling: it pays only for what protects it.
API_MIDDLEWARE = [
    "web.inputs.MalformedRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The Host against ALLOWED_HOSTS: inside the headers' middleware, so a 400 carries them.
    "portal.middleware.ApiHostMiddleware",
    "portal.middleware.SystemAdminHostMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.tenant_navigation",
            ],
        },
    },
]

# Data: SQLite next to the code by default, PostgreSQL (psycopg 3) from DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    _db["CONN_HEALTH_CHECKS"] = True
else:
    # IMMEDIATE: a write transaction takes SQLite's lock at BEGIN, so concurrent
    # read-then-write transactions queue up instead of failing with "database is locked".
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": Path(env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache (and, later, rate-limit counters): local memory by default, Redis from REDIS_URL.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "keyward"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3  # invitations stay valid for three days

# Sign-in throttling: lock an account *and* an address after repeated failures, whichever
# trips first. Attempts are counted in the database, so the lock holds across processes and
# does not depend on Redis being up (fails closed).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.throttling.username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# A sign-in clears that account's failures only (accounts.throttling): axes' own reset would
# clear every failure from the address, so signing in to one's own account between guesses
# at another's second factor would reset the count on the other.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False
# Second-step codes and step-up proofs (accounts.stepup) count as sign-in attempts; never
# store what was typed (a mistyped recovery code is most of a real one).
AXES_SENSITIVE_PARAMETERS = ["code", "stepup_password", "stepup_code", "stepup_passkey"]
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0) or None
# Axes reads the address through the same helper as the request log, events and network
# allowlists (django-ipware is not installed, so without it axes would read REMOTE_ADDR only).
AXES_CLIENT_IP_CALLABLE = "web.http.client_ip"
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Second factors. One throttle counts wrong codes: axes, with the password's limits (the
# second step reports each failure to it), so django-otp's own delays are off. TOTP accepts
# the code of the previous and the next 30-second step too, and never the same step twice.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Keyward")
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# A password accepted for an account with a second factor waits this long for the second step.
SECOND_FACTOR_TIMEOUT = timedelta(minutes=5)
# Passkeys (WebAuthn): the relying party is the host the portal is served on (the request's
# Host, already checked against ALLOWED_HOSTS) unless WEBAUTHN_RP_ID names a parent domain.
WEBAUTHN_RP_ID = env_str("WEBAUTHN_RP_ID").strip().lower()
WEBAUTHN_RP_NAME = env_str("WEBAUTHN_RP_NAME", "Keyward")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Mail: the console in development; SMTP from EMAIL_HOST in production.
_EMAIL_HOST = env_str("EMAIL_HOST")
if _EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Keyward <keyward@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Content Security Policy (Django 6): nothing but our own origin, scripts by nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Large enough for an import of 10,000 customers.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_BODY_BYTES", 4 * 1024 * 1024, minimum=1024)

if not DEBUG:
    # HTTPS only. Behind a TLS-terminating proxy, set SECURE_PROXY_SSL_HEADER=true.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# API keys. The pepper keys the HMAC of every stored key hash: set it explicitly in
# production (derived from SECRET_KEY otherwise, so rotating SECRET_KEY would stop every key).
API_KEY_PEPPER = env_str("API_KEY_PEPPER")
if API_KEY_PEPPER and len(API_KEY_PEPPER) < 32:
    raise ImproperlyConfigured("API_KEY_PEPPER must be at least 32 characters long")
KEYS_EXPIRING_SOON_DAYS = env_int("KEYS_EXPIRING_SOON_DAYS", 7, minimum=1)
# Verification state shared by every process (gateway.keystate): Redis keys with this prefix,
# or without Redis a file whose replacement tells every local process that a key changed.
KEY_STATE_PREFIX = env_str("KEY_STATE_PREFIX", "kw")
KEY_STATE_FILE = Path(env_str("KEY_STATE_FILE", str(BASE_DIR / "var" / "key-state")))
KEY_CACHE_SIZE = env_int("KEY_CACHE_SIZE", 100_000, minimum=0)
# With Redis, a worker trusts its cached records only while it holds a lease this long, and a
# writer that changed a key waits this long before it reports done (gateway.keystate).
KEY_LEASE_MS = env_int("KEY_LEASE_MS", 50, minimum=1)
# Request logs and usage counts are written in batches, at least this often (seconds).
API_LOG_FLUSH_SECONDS = env_int("API_LOG_FLUSH_SECONDS", 2, minimum=1)
API_LOG_BATCH_SIZE = env_int("API_LOG_BATCH_SIZE", 500, minimum=1)
API_LOG_BACKGROUND = env_bool("API_LOG_BACKGROUND", True)
# The `aud` a Provider API token must carry.
PROVIDER_API_AUDIENCE = env_str("PROVIDER_API_AUDIENCE", "keyward-provider-api")
SERVICE_KEY_RATE_LIMIT = env_int("SERVICE_KEY_RATE_LIMIT", 600, minimum=1)
# When set, the system admin site is served only on this host, and the portal not there.
SYSTEM_ADMIN_HOST = env_str("SYSTEM_ADMIN_HOST").strip().lower()

# The system admin site lives at /system/ (SYSTEM_ADMIN_PATH overrides).
SYSTEM_ADMIN_PATH = env_str("SYSTEM_ADMIN_PATH", "system/").strip("/") + "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"without_traceback": {"()": "portal.logs.WithoutTraceback"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "client_errors": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["without_traceback"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request bodies (and so passwords or keys) are never logged; only the request line.
        "django.request": {"level": "ERROR"},
        # Bad Hosts and other suspicious requests: one line each, never a traceback.
        "django.security": {"handlers": ["client_errors"], "propagate": False},
        "axes": {"level": "WARNING"},
    },
}
