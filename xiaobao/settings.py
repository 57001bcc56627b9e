"""xiaobao settings: every knob is an XIAOBAO_* environment variable (see README).

With none set, this is the embedded demo: SQLite and keys in ./var, nothing to configure.
With XIAOBAO_MODE=production, start-up refuses to run without a secret key and a field key.
"""

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from xiaobao.lib.envvars import (
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_smtp,
    env_str,
    env_timezone,
)

PACKAGE_DIR = Path(__file__).resolve().parent

MODE = env_str("XIAOBAO_MODE", "demo")
if MODE not in ("demo", "production"):
    raise ImproperlyConfigured(f"XIAOBAO_MODE: 应为 demo 或 production, 实际为 {MODE!r}")
PRODUCTION = MODE == "production"

DATA_DIR = Path(env_str("XIAOBAO_DATA_DIR", "var")).resolve()


def _demo_secret(filename: str, make) -> str:
    """A secret kept in the data folder, for the embedded demo only (never in production)."""
    path = DATA_DIR / "keys" / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("XIAOBAO_SECRET_KEY")
FIELD_KEY = env_str("XIAOBAO_FIELD_KEY")
if PRODUCTION:
    missing = [n for n, v in (("XIAOBAO_SECRET_KEY", SECRET_KEY), ("XIAOBAO_FIELD_KEY", FIELD_KEY)) if not v]
    if missing:
        raise ImproperlyConfigured(f"{', '.join(missing)}: 生产模式 (XIAOBAO_MODE=production) 必须设置")
if not SECRET_KEY:
    SECRET_KEY = _demo_secret("django-secret.key", lambda: secrets.token_urlsafe(50))
if SECRET_KEY and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("XIAOBAO_SECRET_KEY: 至少 32 个字符")
# The field key itself is read and validated by xiaobao.privacy.keys; the file is its demo home.
FIELD_KEY_FILE = DATA_DIR / "keys" / "field.key"

DEBUG = env_bool("XIAOBAO_DEBUG", False)
ALLOWED_HOSTS = env_list("XIAOBAO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("XIAOBAO_CSRF_TRUSTED_ORIGINS", [])

DATABASES = {"default": env_database("XIAOBAO_DATABASE_URL", f"sqlite:///{DATA_DIR / 'xiaobao.sqlite3'}")}
# How long a write waits for a lock another writer holds (an import, a report's snapshot) before it
# gives up whole and the page says "busy, try again" (503) instead of hanging.
DB_LOCK_WAIT_SECONDS = env_int("XIAOBAO_DB_LOCK_WAIT_SECONDS", 30, minimum=1)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c lock_timeout={DB_LOCK_WAIT_SECONDS * 1000}"
    )
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the worker and the web server read while an import writes. SQLite has one writer at a
    # time: a write made during an import waits for the import's commit, up to the busy timeout (set
    # first, so that even the journal-mode pragma waits), then answers 503 "busy" (DatabaseBusyMiddleware).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": DB_LOCK_WAIT_SECONDS,
        "init_command": (
            f"PRAGMA busy_timeout={DB_LOCK_WAIT_SECONDS * 1000}; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    # Each server thread keeps its connection, as on PostgreSQL: closing the last connection to a
    # WAL database checkpoints it, about 12 ms per request (bench/results/cases-list.md). A restore
    # writes into the live file through SQLite's backup API, which open connections see.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": env_str("XIAOBAO_TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "xiaobao.org",
    "xiaobao.accounts",
    "xiaobao.privacy",
    "xiaobao.customers",
    "xiaobao.audit",
    "xiaobao.imports",
    "xiaobao.cases",
    "xiaobao.book",
    "xiaobao.kpi",
    "xiaobao.education",
    "xiaobao.reviews",
    "xiaobao.governance",
    "xiaobao.training",
    "xiaobao.risk",
    "xiaobao.assessment",
    "xiaobao.reports",
    "xiaobao.backup",
    "xiaobao.retention",
    "xiaobao.home",
    "xiaobao.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "xiaobao.accounts.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
    "xiaobao.accounts.middleware.DatabaseBusyMiddleware",
    "xiaobao.accounts.middleware.NullCharacterMiddleware",
]

ROOT_URLCONF = "xiaobao.urls"
WSGI_APPLICATION = "xiaobao.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts-login"
LOGIN_REDIRECT_URL = "home-index"
LOGOUT_REDIRECT_URL = "accounts-login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xiaobao.accounts.context.navigation",
            ],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese first; English is a complete second language.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
FORMAT_MODULE_PATH = ["xiaobao.formats"]  # 1,234,567 in Chinese too (xiaobao/formats/zh_Hans)
TIME_ZONE = env_timezone("XIAOBAO_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"

for _key, _value in env_smtp("XIAOBAO_SMTP_URL").items():
    globals()[_key] = _value
DEFAULT_FROM_EMAIL = env_str("XIAOBAO_EMAIL_FROM", "xiaobao@localhost")
EMAIL_TIMEOUT = 10

# Reminders (xiaobao worker): how early "due soon" fires, and the group-bot webhooks.
XIAOBAO_REMINDER_DUE_SOON_WORKDAYS = env_int("XIAOBAO_REMINDER_DUE_SOON_WORKDAYS", 1, minimum=0)
# The engine of the KPI expressions (xiaobao.kpi.backends): embedded DuckDB, or Spark for big books.
# The hour (local time) from which `xiaobao worker` runs the day's surrender-risk scan, once a day.
XIAOBAO_RISK_SCAN_HOUR = env_int("XIAOBAO_RISK_SCAN_HOUR", 2, minimum=0)
XIAOBAO_ANALYTICS_BACKEND = env_choice("XIAOBAO_ANALYTICS_BACKEND", "duckdb", ("duckdb", "spark"))
XIAOBAO_WECOM_WEBHOOK = env_str("XIAOBAO_WECOM_WEBHOOK", "")
XIAOBAO_DINGTALK_WEBHOOK = env_str("XIAOBAO_DINGTALK_WEBHOOK", "")
XIAOBAO_DINGTALK_SECRET = env_str("XIAOBAO_DINGTALK_SECRET", "")

# Sessions end after inactivity: an unattended desk must not stay logged in.
SESSION_COOKIE_AGE = env_int("XIAOBAO_SESSION_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "xiaobao.accounts.views.csrf_failure"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("XIAOBAO_SECURE_COOKIES", PRODUCTION)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Login throttling (django-axes): 5 failures per username+IP lock the pair for 15 minutes.
AXES_FAILURE_LIMIT = env_int("XIAOBAO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {"TITLE": "xiaobao API", "VERSION": "1", "SERVE_INCLUDE_SCHEMA": False}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("XIAOBAO_LOG_LEVEL", "WARNING")},
}
