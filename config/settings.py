"""One settings module, driven by environment variables (see .env.example).

With nothing set it runs embedded: SQLite, media on local disk, console e-mail and a
Celery broker on the filesystem. DATABASE_URL, CELERY_BROKER_URL, AWS_* and STRIPE_*
switch it to the production shape without code changes.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# A fixed development key keeps `make run` working with nothing configured; production
# (DEBUG off) refuses to start without a real one.
_DEV_SECRET_KEY = "dev-insecure-key-only-for-local-runs-change-me-0123456789"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "djstripe",
    "common",
    "accounts",
    "teams",
    "credits",
    "billing",
    "headshots",
    "characters",
    "staff",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "common.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After auth: its error page is a normal page (the nav reads the user).
    "common.middleware.RejectNullBytesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "common.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "teams.context_processors.current_team",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Reuse connections between requests: opening one costs more than most of our queries.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# The ledger prepares its hold/capture/release statements once per connection; turn this
# off behind a transaction-pooling PgBouncer older than 1.21 (it cannot keep them).
CREDITS_PREPARED_STATEMENTS = env.bool("CREDITS_PREPARED_STATEMENTS", default=True)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql") and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Server-side parameters, so psycopg prepares a query shape after its fifth run on a
    # connection: PostgreSQL then skips parsing and planning the ORM's repeated reads
    # (the API's auth, status and history queries). Off behind a transaction-pooling
    # PgBouncer older than 1.21, like CREDITS_PREPARED_STATEMENTS.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Let a web process and a worker process share one SQLite file without "locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # A file, not memory, so pytest --reuse-db skips the slow (dj-stripe) migrations.
    DATABASES["default"]["TEST"].setdefault("NAME", str(VAR_DIR / "test.sqlite3"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Throttles and allauth's login rate limits count in the cache: shared Redis in production.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# For Django's Redis backend django-environ writes the base options of `?key_prefix=...`
# in lower case, and Django reads only KEY_PREFIX, TIMEOUT...: lift them, or they are lost.
for _option in ("timeout", "key_prefix", "version", "key_function"):
    if _option in CACHES["default"]:
        CACHES["default"][_option.upper()] = CACHES["default"].pop(_option)
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same backend, keeping its Redis client instead of building one a call.
    CACHES["default"]["BACKEND"] = "common.cache.RedisCache"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "home"
# Sessions (and so mobile session tokens) are read from the cache, written through to the DB.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
LOGIN_URL = "account_login"

# django-allauth: e-mail is the login; verification is an operator's choice.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# Who the client is, for login rate limits and API throttles: the socket's address unless
# a known number of proxies sit in front. (DRF's default would trust any X-Forwarded-For a
# client sends, and so let it dodge every per-IP limit.)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_SERVE_SPECIFICATION = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": AWS_S3_REGION_NAME,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 3600,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Portrait Studio <studio@localhost>")

# Celery: the filesystem transport needs no server, so `make run` works anywhere;
# CELERY_BROKER_URL=redis://... is the production shape.
_CELERY_DIR = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "results", "control"):
        (_CELERY_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_CELERY_DIR / "queue"),
        "data_folder_out": str(_CELERY_DIR / "queue"),
        "processed_folder": str(_CELERY_DIR / "processed"),
        "control_folder": str(_CELERY_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    _default_result_backend = f"file://{_CELERY_DIR / 'results'}"
else:
    _default_result_backend = CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=_default_result_backend) or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A prefork child builds the render models before its first task (config.celery, ~1.3 s
# alone); Celery's default 4 s to come alive is too close with several children starting
# at once on two busy cores.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 30
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Periodic jobs, declared in one place with why they exist.
CELERY_BEAT_SCHEDULE: dict = {
    # A worker can die mid-job; nothing may stay queued or processing forever.
    "headshots-reconcile": {"task": "headshots.reconcile", "schedule": 60.0},
    # Originals are kept only for the retention window (privacy promise on every page).
    "headshots-cleanup": {"task": "headshots.cleanup_originals", "schedule": 300.0},
    # Staff metrics read closed days from rollups; unbuilt or changed days are computed
    # from the rows (exact either way), so this only bounds how many days that is.
    "staff-metrics-rollups": {"task": "staff.metrics_rollups_refresh", "schedule": 600.0},
    # A team's admins hear within a quarter of an hour that its credits are running low.
    "billing-low-credit-notices": {"task": "billing.low_credit_notices_send", "schedule": 900.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SessionTokenAuthentication",
        "accounts.authentication.TeamApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "teams.permissions.ApiKeyTeamScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON unless a view that takes uploads says otherwise (it then documents multipart).
    "DEFAULT_PARSER_CLASSES": ["common.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "common.schema.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "common.api.Pagination",
    # Per user and per IP; a throttled call gets 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "common.throttling.AnonRateThrottle",
        "common.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "submit": env.str("THROTTLE_SUBMIT", default="30/min"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "PAGE_SIZE": 20,
    "UNAUTHENTICATED_USER": None,
    # `?format=` is ours (download jpeg|png|webp), not content negotiation.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Portrait Studio API",
    # Swagger UI from our own static files: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "HeadshotAspectRatioEnum": "headshots.models.AspectRatio",
        "CharacterSizeEnum": "characters.models.Size",
    },
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Uploads documented as binary files, so generated clients send them as files.
    "COMPONENT_SPLIT_REQUEST": True,
}

# dj-stripe: keys may be absent; the buy button then says what is missing.
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_TEST_SECRET_KEY = env.str("STRIPE_TEST_SECRET_KEY", default="")
STRIPE_LIVE_SECRET_KEY = env.str("STRIPE_LIVE_SECRET_KEY", default="")
STRIPE_TEST_PUBLIC_KEY = env.str("STRIPE_TEST_PUBLIC_KEY", default="")
STRIPE_LIVE_PUBLIC_KEY = env.str("STRIPE_LIVE_PUBLIC_KEY", default="")
_STRIPE_API_HOST = env.str("STRIPE_API_HOST", default="")
if _STRIPE_API_HOST:
    STRIPE_API_HOST = _STRIPE_API_HOST
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"

# Providers for the generation engines; a missing key only makes that engine unavailable.
REPLICATE_API_TOKEN = env.str("REPLICATE_API_TOKEN", default="")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
STABILITY_API_KEY = env.str("STABILITY_API_KEY", default="")
FAL_KEY = env.str("FAL_KEY", default="")
ENGINE_PRESET = env.str("ENGINE_PRESET", default="balanced")

# Product rules an operator may tune.
CREDITS_SIGNUP_BONUS = env.int("CREDITS_SIGNUP_BONUS", default=10)
CREDITS_REWARD_AMOUNT = env.int("CREDITS_REWARD_AMOUNT", default=1)
CREDITS_REWARD_DAILY_CAP = env.int("CREDITS_REWARD_DAILY_CAP", default=5)
CREDITS_LOW_BALANCE_WARNING = env.int("CREDITS_LOW_BALANCE_WARNING", default=10)
INVITATION_TTL = timedelta(days=env.int("INVITATION_TTL_DAYS", default=7))
# Headshots: the defaults staff can later override from admin (site settings).
HEADSHOT_MAX_UPLOAD_BYTES = env.int("HEADSHOT_MAX_UPLOAD_MB", default=15) * 1024 * 1024
HEADSHOT_RETENTION_MINUTES = env.int("HEADSHOT_RETENTION_MINUTES", default=30)
HEADSHOT_JOB_TIMEOUT_SECONDS = env.int("HEADSHOT_JOB_TIMEOUT_SECONDS", default=600)
HEADSHOT_MAX_RUNS = env.int("HEADSHOT_MAX_RUNS", default=3)
HEADSHOT_IDENTITY_RETRIES = env.int("HEADSHOT_IDENTITY_RETRIES", default=3)
HEADSHOT_SHARE_LINK_HOURS = env.int("HEADSHOT_SHARE_LINK_HOURS", default=72)

# Security: strict by default when DEBUG is off.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- characters ---
# The character studio: biggest reference image (upload or link), how long and how many
# redirects a reference link may take, seconds before a silent job is reconciled, and
# the Celery queue its jobs go to (a separate worker pool may serve heavy sheet renders).
CHARACTERS_MAX_REFERENCE_BYTES = env.int("CHARACTERS_MAX_REFERENCE_MB", default=15) * 1024 * 1024
CHARACTERS_URL_FETCH_SECONDS = env.float("CHARACTERS_URL_FETCH_SECONDS", default=10.0)
CHARACTERS_URL_MAX_REDIRECTS = env.int("CHARACTERS_URL_MAX_REDIRECTS", default=3)
CHARACTERS_JOB_TIMEOUT_SECONDS = env.int("CHARACTERS_JOB_TIMEOUT_SECONDS", default=600)
CHARACTERS_TASK_QUEUE = env.str("CHARACTERS_TASK_QUEUE", default="celery")
# A worker can die mid-job; no character version may stay queued or processing forever.
CELERY_BEAT_SCHEDULE["characters-reconcile"] = {"task": "characters.reconcile", "schedule": 60.0}
