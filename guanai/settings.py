"""One env-driven settings module.

The demo needs nothing set: SQLite in ``var/guanai.sqlite3`` and development secrets generated once into
``var/dev-secrets.json``. With ``GUANAI_ENV=production`` every secret must come from the environment and a
missing one stops start-up with a message naming it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GUANAI_VAR_DIR", BASE_DIR / "var"))

GUANAI_ENV = os.environ.get("GUANAI_ENV", "development")
if GUANAI_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"GUANAI_ENV must be development, production or test, not {GUANAI_ENV!r}")
PRODUCTION = GUANAI_ENV == "production"
TESTING = GUANAI_ENV == "test" or "pytest" in sys.modules


def _dev_secrets() -> dict[str, str]:
    """Secrets for the demo, generated once per checkout so nothing has to be configured."""
    path = VAR_DIR / "dev-secrets.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "GUANAI_FIELD_KEYS": "1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "GUANAI_BLIND_INDEX_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def _secret(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(
            f"{name} is not set. In production (GUANAI_ENV=production) every secret must come from the "
            f"environment; see README.md, 'Configuration for production'."
        )
    return _dev_secrets()[name]


SECRET_KEY = _secret("SECRET_KEY")
# Field encryption keys: "id:base64key" pairs separated by commas; the first is used to encrypt, all decrypt.
GUANAI_FIELD_KEYS = _secret("GUANAI_FIELD_KEYS")
# HMAC key of the blind index used for exact lookup and matching of ID numbers.
GUANAI_BLIND_INDEX_KEY = _secret("GUANAI_BLIND_INDEX_KEY")

DEBUG = os.environ.get("DJANGO_DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "" if PRODUCTION else "*").split(",") if h]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set (comma-separated host names) in production.")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "guanai.regions",
    "guanai.accounts",
    "guanai.audit",
    "guanai.registry",
    "guanai.jobs",
    "guanai.visits",
    "guanai.protection",
    "guanai.discovery",
    "guanai.support",
    "guanai.workforce",
    "guanai.oversight",
    "guanai.web",
    "guanai.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "guanai.audit.middleware.RequestIdMiddleware",
    "guanai.web.middleware.StripNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "guanai.web.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
    "guanai.jobs.schedule.ScheduleMiddleware",
]

ROOT_URLCONF = "guanai.urls"
WSGI_APPLICATION = "guanai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanai.web.context.navigation",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------------
DEFAULT_SQLITE = VAR_DIR / "guanai.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
try:
    _db: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60))
except Exception as exc:  # dj_database_url raises several types for a malformed URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # WAL lets the web server read while a job writes; IMMEDIATE avoids lock upgrades failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    _db["TEST"] = {"NAME": None}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db.setdefault("OPTIONS", {})
    # Short OLTP queries: JIT compilation (on by default above a cost) added ~100-200 ms to aggregate reads.
    _db["OPTIONS"].setdefault("options", "-c jit=off")
elif not TESTING:
    raise ImproperlyConfigured("DATABASE_URL must point to SQLite or PostgreSQL.")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts -------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing strength is not under test; argon2 would make the role matrix take minutes.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Login throttling (django-axes): lock a username+IP pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_ENABLED = not TESTING or os.environ.get("AXES_ENABLED") == "1"
AXES_VERBOSE = False

SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- i18n -----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and uploads ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on a missing root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if DEBUG or TESTING:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("GUANAI_MEDIA_ROOT", VAR_DIR / "media"))

# --- API ------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "guanai.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("API_RATE", "600/minute")},
}
if TESTING:
    REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = []
SPECTACULAR_SETTINGS = {
    "TITLE": "关爱 guanai API",
    "DESCRIPTION": "Care services for left-behind children and children in difficulty (渝民发〔2024〕2号). "
    "Every list is scoped to the caller's jurisdiction; errors share one shape.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind" or "status": each choice set gets a stable, meaningful name.
    "ENUM_NAME_OVERRIDES": {
        "SexEnum": "guanai.registry.models.Sex",
        "HukouTypeEnum": "guanai.registry.models.HukouType",
        "ChildStatusEnum": "guanai.registry.models.Child.Status",
        "NeedDomainEnum": "guanai.support.models.Domain",
        "ProviderKindEnum": "guanai.support.models.Provider.Kind",
        "PlanActionKindEnum": "guanai.support.models.PlanAction.Kind",
        "PlanActionStatusEnum": "guanai.support.models.PlanAction.Status",
        "ActivityKindEnum": "guanai.support.models.Activity.Kind",
    },
}

# --- logging: English, structured, never personal data -------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "guanai.audit.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},  # logs every glyph at INFO while subsetting PDF fonts
        "splink": {"level": "WARNING"},  # training details at INFO on every discovery run
        "py4j": {"level": "WARNING"},
    },
}

# --- product settings -----------------------------------------------------------------------------------
# Background jobs: thread (demo, in the web process), worker (production: `guanai jobs worker`), inline (tests).
GUANAI_JOBS_MODE = os.environ.get("GUANAI_JOBS_MODE", "inline" if TESTING else "thread")
if GUANAI_JOBS_MODE not in {"thread", "worker", "inline"}:
    raise ImproperlyConfigured("GUANAI_JOBS_MODE must be thread, worker or inline")
# Reminders and escalations are also mailed when an e-mail backend is configured (EMAIL_HOST etc.).
GUANAI_SEND_EMAIL = os.environ.get("GUANAI_SEND_EMAIL", "0") == "1"
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "guanai@localhost")
GUANAI_DEMO_PASSWORD = os.environ.get("GUANAI_DEMO_PASSWORD", "guanai-demo-2026")
