"""One settings module, driven by the environment.

Variables: DATABASE_URL (default: embedded SQLite in var/), SECRET_KEY, DEBUG,
ALLOWED_HOSTS (comma-separated), CSRF_TRUSTED_ORIGINS, SECURE_SSL (1 when served
over HTTPS), ANSINH_POLICY_FILE, ANSINH_DATA_DIR, TASKS_IMMEDIATE, ANSINH_API_TOKEN_DAYS,
ANSINH_IMPORT_RETENTION_DAYS, ANSINH_EXPORT_RETENTION_DAYS, ANSINH_ACCOUNT_KEYS, ANSINH_ACCOUNT_HASH_KEY.
"""

import os
import sys
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ANSINH_DATA_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


TESTING = "pytest" in sys.modules or env_bool("ANSINH_TESTING")
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # A single-machine install keeps a random key in its data directory (created once, mode 600).
    _key_file = DATA_DIR / "secret_key"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",  # serves the API docs (Swagger UI) from its own static files, not from a CDN
    "ansinh.core",
    "ansinh.areas",
    "ansinh.accounts",
    "ansinh.audit",
    "ansinh.policy",
    "ansinh.registry",
    "ansinh.verification",
    "ansinh.payments",
    "ansinh.notifications",
    "ansinh.openings",
    "ansinh.quality",
    "ansinh.payroll",
    "ansinh.disbursement",
    "ansinh.cashout",
    "ansinh.lookup",
    "ansinh.complaints",
    "ansinh.applications",
    "ansinh.reconciliation",
    "ansinh.reports",
    "ansinh.api",
    "ansinh.web",
    "ansinh.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ansinh.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ansinh.core.middleware.GZipTextMiddleware",  # pages: 34 kB of registry list → 6 kB
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ansinh.urls"
WSGI_APPLICATION = "ansinh.wsgi.application"

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
                "django.template.context_processors.i18n",
                "ansinh.web.context.navigation",
            ],
        },
    }
]

DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'ansinh.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # No JIT compilation for the app's connections: each statement here (a batch step, a page,
    # a report, a trigger's INSERT) runs once per plan, and LLVM compiling a large plan cost
    # 0.1-1.5 s of it in every profile (the status import, the checks, the facts' triggers)
    # without paying back. A DATABASE_URL that gives its own `?options=` keeps them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failures (django-axes): per username and address.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Sessions: idle expiry of 8 hours of work, renewed on each request.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

SECURE_SSL = env_bool("SECURE_SSL", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_SSL:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = False
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "ansinh" / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start while it is missing
# Static files: collected (`manage.py collectstatic`, run by `make setup` and `make serve`) with
# hashed names and gzip copies, served by WhiteNoise in every mode, DEBUG included (runserver's
# own static view is off: whitenoise.runserver_nostatic), hashed names cached for good.
# The tests alone link plain names found by the finders: pytest-django's live server serves
# /static/ from the finders, which know no hashed name (tests/web/test_static.py collects and
# serves the real thing).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "ansinh.core.staticfiles.CompressedManifestStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = TESTING
WHITENOISE_AUTOREFRESH = False  # DEBUG would turn it on: the files are collected, read once at start
MEDIA_ROOT = DATA_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("TASKS_IMMEDIATE", TESTING)
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

ANSINH_POLICY_FILE = Path(os.environ.get("ANSINH_POLICY_FILE", BASE_DIR / "ansinh" / "policy" / "data" / "policy.yaml"))


def _data_key(name: str, env: str, make) -> str:
    """A key from the environment, else one generated once into the data directory (mode 600),
    like SECRET_KEY. Back the data directory's key files up: docs/account-keys.md."""
    value = os.environ.get(env, "").strip()
    if value:
        return value
    key_file = DATA_DIR / name
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text(make())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _fernet_key() -> str:
    import base64
    import secrets

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


# Receiving-account numbers are encrypted at rest (ansinh.payments.crypto): ANSINH_ACCOUNT_KEYS
# holds Fernet keys, comma-separated, the first encrypts and all decrypt (rotation);
# ANSINH_ACCOUNT_HASH_KEY keys the HMAC that finds an account by its number.
ANSINH_ACCOUNT_KEYS = [
    k.strip() for k in _data_key("account_keys", "ANSINH_ACCOUNT_KEYS", _fernet_key).split(",") if k.strip()
]
ANSINH_ACCOUNT_HASH_KEY = _data_key("account_hash_key", "ANSINH_ACCOUNT_HASH_KEY", _fernet_key)
# How many months before the month of its decision an allowance may start (with a recorded
# reason); every such month becomes arrears in the payroll.
ANSINH_MAX_BACKDATED_MONTHS = int(os.environ.get("ANSINH_MAX_BACKDATED_MONTHS", "12"))

# Data-quality worklists (ansinh.quality, docs/worklists.md): how many beneficiaries one receiving
# account may receive for before it is listed.
ANSINH_WORKLIST_MAX_PER_ACCOUNT = int(os.environ.get("ANSINH_WORKLIST_MAX_PER_ACCOUNT", "3"))
# The most rows one XLSX export of the beneficiary list may hold (written in the request,
# streamed from a temporary file); a larger list is refused with a request to narrow the filter.
ANSINH_EXPORT_MAX_ROWS = int(os.environ.get("ANSINH_EXPORT_MAX_ROWS", "20000"))
# The target share (percent) of beneficiaries holding an active receiving account, against
# which coverage is shown (ansinh.payments.coverage; 30% in the Hoằng Phong plan).
ANSINH_ACCOUNT_COVERAGE_TARGET = Decimal(os.environ.get("ANSINH_ACCOUNT_COVERAGE_TARGET", "30"))

# Personal API tokens expire this many days after creation unless `create_api_token --days` says
# otherwise; there are no tokens without an end.
ANSINH_API_TOKEN_DAYS = int(os.environ.get("ANSINH_API_TOKEN_DAYS", "90"))
# Uploaded registry import files (they hold personal data) are deleted this many days after the
# upload by `manage.py purge_uploads`; the job and its summary stay. Accounting records are not
# touched by this setting (docs/retention.md).
ANSINH_IMPORT_RETENTION_DAYS = int(os.environ.get("ANSINH_IMPORT_RETENTION_DAYS", "90"))
# The monitoring dashboard's export files (lists of people, personal data, in ANSINH_EXPORT_DIR)
# are deleted this many days after the export was asked for by `manage.py purge_exports`; the
# export job stays and its page says the file was deleted (docs/retention.md).
ANSINH_EXPORT_RETENTION_DAYS = int(os.environ.get("ANSINH_EXPORT_RETENTION_DAYS", "7"))

# Identity verification against the national population database (ansinh.verification):
# "sandbox" answers from the demo's synthetic register; "http" speaks the reference protocol of
# docs/population-adapter.md to ANSINH_POPULATION_URL with requests signed by the shared key.
ANSINH_POPULATION_ADAPTER = os.environ.get("ANSINH_POPULATION_ADAPTER", "sandbox")
ANSINH_POPULATION_URL = os.environ.get("ANSINH_POPULATION_URL", "")
ANSINH_POPULATION_CLIENT_ID = os.environ.get("ANSINH_POPULATION_CLIENT_ID", "")
ANSINH_POPULATION_KEY = os.environ.get("ANSINH_POPULATION_KEY", "")
ANSINH_POPULATION_TIMEOUT = float(os.environ.get("ANSINH_POPULATION_TIMEOUT", "10"))

# Account opening with the provider (ansinh.openings, docs/account-opening.md): the bank that
# opens the accounts (short code from the list of banks; Nam A Bank, the bank of the 2023 An Giang
# pilot that the demo and the seed data pay through) and whether
# the sandbox provider may answer an exported batch ("sandbox": the demo and tests; "file": the
# real provider's results files are imported by hand).
ANSINH_OPENINGS_INSTITUTION = os.environ.get("ANSINH_OPENINGS_INSTITUTION", "NAB")
ANSINH_OPENINGS_PROVIDER = os.environ.get("ANSINH_OPENINGS_PROVIDER", "sandbox")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING" if TESTING else "INFO"}},
}

# Notifications (ansinh.notifications, docs/sms-gateway.md). The SMS gateway: "sandbox" keeps the
# messages in the outbox (nothing leaves the machine), "http" speaks the documented protocol.
ANSINH_SMS_GATEWAY = os.environ.get("ANSINH_SMS_GATEWAY", "sandbox")
ANSINH_SMS_HTTP_URL = os.environ.get("ANSINH_SMS_HTTP_URL", "")
ANSINH_SMS_HTTP_KEY = os.environ.get("ANSINH_SMS_HTTP_KEY", "")
ANSINH_SMS_HTTP_TIMEOUT = float(os.environ.get("ANSINH_SMS_HTTP_TIMEOUT", "10"))
# The most SMS segments one message may cost (153 GSM-7 characters or 67 UCS-2 each when split).
ANSINH_SMS_MAX_SEGMENTS = int(os.environ.get("ANSINH_SMS_MAX_SEGMENTS", "2"))
# The daily sending window, local time (TIME_ZONE): outside it messages wait for the next opening.
ANSINH_SMS_WINDOW = tuple(os.environ.get("ANSINH_SMS_WINDOW", "07:00-21:00").split("-", 1))
# Retries of a failed send: at most this many attempts, waiting base × 2^(n-1) seconds (capped).
ANSINH_SMS_MAX_ATTEMPTS = int(os.environ.get("ANSINH_SMS_MAX_ATTEMPTS", "5"))
ANSINH_SMS_RETRY_BASE_SECONDS = int(os.environ.get("ANSINH_SMS_RETRY_BASE_SECONDS", "60"))
ANSINH_SMS_RETRY_MAX_SECONDS = int(os.environ.get("ANSINH_SMS_RETRY_MAX_SECONDS", "21600"))
# The name every SMS starts with ("ANSINH: …"); the texts themselves never carry it. Empty: none.
ANSINH_SMS_BRANDNAME = os.environ.get("ANSINH_SMS_BRANDNAME", "ANSINH").strip()
# Whom a person calls about a notice (a change of account, a transfer that failed); empty: the
# People's Committee of their commune (payments.approvals.hotline).
ANSINH_HOTLINE = os.environ.get("ANSINH_HOTLINE", "").strip()
# The public status lookup (ansinh.lookup): look-ups allowed per client address and per CCCD,
# "count/seconds" (fixed windows in the database, shared by every server process).
ANSINH_LOOKUP_LIMIT_CLIENT = os.environ.get("ANSINH_LOOKUP_LIMIT_CLIENT", "10/600")
ANSINH_LOOKUP_LIMIT_CCCD = os.environ.get("ANSINH_LOOKUP_LIMIT_CCCD", "5/3600")
# the lookup's statements prepared once per PostgreSQL connection (0 behind a transaction-pooling
# PgBouncer older than 1.21, which cannot keep prepared statements): docs/cash-payout.md
ANSINH_LOOKUP_PREPARED = env_bool("ANSINH_LOOKUP_PREPARED", True)
# Reverse proxies in front of the application that append the client's address to
# X-Forwarded-For (0: the client is REMOTE_ADDR; never more than really sit in front).
ANSINH_TRUSTED_PROXIES = int(os.environ.get("ANSINH_TRUSTED_PROXIES", "0"))
# Where and how money credited to an account is withdrawn, one short sentence at the end of the
# "credited" notice (Vietnamese; the diacritics go when the SMS needs it).
ANSINH_SMS_WITHDRAW_HINT = os.environ.get(
    "ANSINH_SMS_WITHDRAW_HINT", "Rút tại ATM hoặc quầy giao dịch gần nhất"
).strip()

# The provider's bank (ansinh.disbursement, docs/bank-gateway.md): "sandbox" answers transfers in
# this process (the sandbox bank, also reachable over HTTP at /sandbox-bank/ while enabled),
# "http" speaks the documented protocol to ANSINH_BANK_HTTP_URL.
ANSINH_BANK_GATEWAY = os.environ.get("ANSINH_BANK_GATEWAY", "sandbox")
ANSINH_BANK_HTTP_URL = os.environ.get("ANSINH_BANK_HTTP_URL", "")
ANSINH_BANK_HTTP_KEY = os.environ.get("ANSINH_BANK_HTTP_KEY", "")
ANSINH_BANK_HTTP_TIMEOUT = float(os.environ.get("ANSINH_BANK_HTTP_TIMEOUT", "60"))
# The sandbox bank: the seed its outcomes follow, whether some answers come late (pending, final
# at a status query), and the key its HTTP endpoint asks for.
ANSINH_SANDBOX_BANK_SEED = os.environ.get("ANSINH_SANDBOX_BANK_SEED", "ansinh-sandbox")
ANSINH_SANDBOX_BANK_DELAYS = os.environ.get("ANSINH_SANDBOX_BANK_DELAYS", "1") == "1"
# the sandbox bank's seeded share of failures (~3 %); unknown or closed accounts and names that
# do not match fail whatever this says
ANSINH_SANDBOX_BANK_RANDOM_FAILURES = os.environ.get("ANSINH_SANDBOX_BANK_RANDOM_FAILURES", "1") == "1"
ANSINH_SANDBOX_BANK_KEY = os.environ.get("ANSINH_SANDBOX_BANK_KEY", "sandbox-key")
# Hours after which a batch sent to the bank without a final answer for every transfer is
# queried for its status (the scheduled task; never a blind resend).
ANSINH_BANK_QUERY_AFTER_HOURS = int(os.environ.get("ANSINH_BANK_QUERY_AFTER_HOURS", "4"))
# Complaints (ansinh.complaints.deadlines): working days to answer feedback (phản ánh) and a
# complaint (khiếu nại; Luật Khiếu nại 2011 art. 27–28: 10 working days to accept, 30 days to settle).
ANSINH_COMPLAINT_DAYS_FEEDBACK = int(os.environ.get("ANSINH_COMPLAINT_DAYS_FEEDBACK", "10"))
ANSINH_COMPLAINT_DAYS_COMPLAINT = int(os.environ.get("ANSINH_COMPLAINT_DAYS_COMPLAINT", "30"))
