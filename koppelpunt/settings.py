"""Django settings, read from the environment.

Defaults give a working single-machine install (SQLite, embedded job queue). Production deployments
set KOPPELPUNT_ENV=production and provide the secrets explicitly; bad values stop start-up with a clear message.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("KOPPELPUNT_DATA_DIR", BASE_DIR / "var")).resolve()

ENV = os.environ.get("KOPPELPUNT_ENV", "development")
if ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"KOPPELPUNT_ENV must be development, production or test, not {ENV!r}")
PRODUCTION = ENV == "production"


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {raw!r}")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def _local_secret(name: str) -> str:
    """A secret kept in the data directory, so a development install survives restarts without setup."""
    if PRODUCTION:
        raise ImproperlyConfigured(f"KOPPELPUNT_{name.upper()} must be set in production")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{name}.secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("KOPPELPUNT_SECRET_KEY") or _local_secret("secret_key")
# The pepper keyed into every stored HMAC of a verification code / autorisatiesleutel. Rotating it is done
# with `koppelpunt rotate-pepper`, which keeps the previous pepper valid until every koppeling is re-keyed.
KEY_PEPPER = os.environ.get("KOPPELPUNT_KEY_PEPPER") or _local_secret("key_pepper")


def _previous_peppers() -> list[str]:
    """Earlier peppers, oldest first: stored digests are chained through them (see las/secrets.py)."""
    raw = os.environ.get("KOPPELPUNT_KEY_PEPPER_PREVIOUS")
    if raw is None and not PRODUCTION and (DATA_DIR / "key_pepper_previous.secret").exists():
        raw = (DATA_DIR / "key_pepper_previous.secret").read_text().replace("\n", ",")
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


KEY_PEPPER_PREVIOUS = _previous_peppers()
# Key for encrypting the autorisatiesleutels the application side must send (Fernet, urlsafe base64, 32 bytes).
FIELD_ENCRYPTION_KEY = os.environ.get("KOPPELPUNT_FIELD_ENCRYPTION_KEY") or _local_secret("field_key")

DEBUG = _bool("KOPPELPUNT_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = [h for h in os.environ.get("KOPPELPUNT_ALLOWED_HOSTS", "" if PRODUCTION else "*").split(",") if h]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("KOPPELPUNT_ALLOWED_HOSTS must list the host names this server answers to")
BASE_URL = os.environ.get("KOPPELPUNT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "koppelpunt",
    "las",
    "ea",
    "sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "koppelpunt.logging.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "koppelpunt.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "koppelpunt.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "koppelpunt" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = "koppelpunt.wsgi.application"


def _database(url: str | None) -> dict[str, object]:
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "koppelpunt.sqlite3",
            # Several processes (web, worker) share the file: wait for locks instead of failing at once.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
            "TEST": {"NAME": os.environ.get("KOPPELPUNT_TEST_SQLITE") or None},
        }
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": parsed.path or ":memory:",
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres:// (or sqlite://), not {parsed.scheme or url!r}"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "koppelpunt",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": _int("KOPPELPUNT_DB_CONN_MAX_AGE", 60),
    }


DATABASES = {"default": _database(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "koppelpunt" / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

EMAIL_BACKEND = os.environ.get("KOPPELPUNT_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("KOPPELPUNT_FROM_EMAIL", "Koppelpunt <noreply@koppelpunt.invalid>")
EMAIL_HOST = os.environ.get("KOPPELPUNT_EMAIL_HOST", "localhost")
EMAIL_PORT = _int("KOPPELPUNT_EMAIL_PORT", 25)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _bool("KOPPELPUNT_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = _int("KOPPELPUNT_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KOPPELPUNT_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Largest SOAP request body accepted before parsing (a BrengLeerresultaten batch for a big school fits easily).
UWLR_MAX_REQUEST_BYTES = _int("KOPPELPUNT_UWLR_MAX_REQUEST_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UWLR_MAX_REQUEST_BYTES
# Failed UWLR authentications allowed per window before a lockout (las/autorisatie.py): per client address, per
# klantcode, per school named in the request.
UWLR_THROTTLE_FAILURES_IP = _int("KOPPELPUNT_UWLR_THROTTLE_FAILURES_IP", 20)
UWLR_THROTTLE_FAILURES_KLANT = _int("KOPPELPUNT_UWLR_THROTTLE_FAILURES_KLANT", 200)
UWLR_THROTTLE_FAILURES_VESTIGING = _int("KOPPELPUNT_UWLR_THROTTLE_FAILURES_VESTIGING", 50)
UWLR_THROTTLE_WINDOW_SECONDS = _int("KOPPELPUNT_UWLR_THROTTLE_WINDOW_SECONDS", 600)
# Reverse proxies whose X-Forwarded-For names the real client (addresses or networks, comma-separated).
UWLR_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("KOPPELPUNT_TRUSTED_PROXIES", "127.0.0.1,::1").split(",") if p.strip()
]
for _proxy in UWLR_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"KOPPELPUNT_TRUSTED_PROXIES must list IP addresses or networks, not {_proxy!r}"
        ) from None


def _huey() -> dict[str, object]:
    url = os.environ.get("KOPPELPUNT_QUEUE_URL", "")
    immediate = _bool("KOPPELPUNT_QUEUE_IMMEDIATE", False)
    if url.startswith("redis://"):
        return {"huey_class": "huey.RedisHuey", "name": "koppelpunt", "url": url, "immediate": immediate}
    if url.startswith(("postgres://", "postgresql://")):
        # huey's own PostgreSQL storage (tables huey_*; LISTEN/NOTIFY wakes the workers).
        return {"huey_class": "huey.PostgresHuey", "name": "koppelpunt", "dsn": url, "immediate": immediate}
    if url and not url.startswith("sqlite://"):
        raise ImproperlyConfigured(f"KOPPELPUNT_QUEUE_URL must be redis://…, postgres://… or sqlite://…, not {url!r}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = url.removeprefix("sqlite://") or str(DATA_DIR / "queue.sqlite3")
    return {"huey_class": "huey.SqliteHuey", "name": "koppelpunt", "filename": path, "immediate": immediate}


HUEY = _huey()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "koppelpunt.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KOPPELPUNT_LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO; uwlr.client already logs each UWLR call once, with its timing.
    "loggers": {"django.server": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
