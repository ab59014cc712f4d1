"""Settings shared by every environment, read from the environment (django-environ).

With nothing set the app runs on SQLite with Celery tasks executed in-process.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

from ppo_case.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "ppo_case.staticfiles.StaticFiles",  # django.contrib.staticfiles, fewer files
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's files served from here, not a CDN: the CSP allows this site only.
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "axes",
    # Two-factor sign-in (access.two_factor): authenticator-app codes and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "access",
    "offenders",
    "selection",
    "conferences",
    "pathways",
    "reporting",
    "demo",
]

MIDDLEWARE = [
    # A request id for the log lines (ppo_case.logging), then /healthz answered before
    # the HTTPS redirect and the host check, for a probe on 127.0.0.1 (ppo_case.health).
    "ppo_case.logging.RequestIdMiddleware",
    "ppo_case.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response ("Security headers").
    "csp.middleware.CSPMiddleware",
    "ppo_case.security_headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "access.middleware.AuditContextMiddleware",
    "access.middleware.NoStoreMiddleware",
    # After authentication: which second factor verified this session, then the rule that
    # a session of someone with a second factor (or, when required, anyone) has used it.
    "django_otp.middleware.OTPMiddleware",
    "access.two_factor.TwoFactorMiddleware",
    # Axes last: it reads the outcome of authentication to lock out repeated failures.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ppo_case.urls"
WSGI_APPLICATION = "ppo_case.wsgi.application"

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
                "ppo_case.context_processors.staff_context",
            ],
            # {% load scroll_region %}: a wide table's focusable, labelled scroll box.
            "libraries": {"scroll_region": "ppo_case.templatetags.scroll_region"},
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# The embedded default behaves like the real thing under two people at once: WAL lets
# readers and a writer work together; IMMEDIATE takes the write lock when a transaction
# begins, so two writers queue for up to `timeout` seconds instead of one failing with
# "database is locked" when it tries to turn its read into a write.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles badly estimated queries for up to a second each, and
    # none of the app's queries runs long enough to win it back (issue 15: the manager's
    # caseload 582 ms with it, 148 ms without; the annual report's force-wide counts
    # lose 0.3–1 s a query to it): off for the app's connections.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# Every page is one transaction: an audit row that cannot be written undoes the
# read or write it records (ACCESS.md "no audit row, no access").
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# NCSC password guidance: length (12 or more), a deny-list of common passwords (Django's
# 20,000), no composition rules beyond refusing all-digit or name-like passwords, and no
# forced expiry (Django has none).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Two-factor sign-in (access.two_factor): when on, every staff page needs a code from an
# authenticator app (or a recovery code) as well as the password; when off, only those who
# have set it up must use it. On in production, off in the demo and the tests.
PPO_REQUIRE_TWO_FACTOR = env.bool("PPO_REQUIRE_TWO_FACTOR", default=True)
OTP_TOTP_ISSUER = "PPO Case"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Inactivity timeout: the session lasts this long after the last request.
SESSION_COOKIE_AGE = env.int("PPO_INACTIVITY_TIMEOUT_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-axes: lock an account + address out after repeated failed sign-ins.
AXES_FAILURE_LIMIT = env.int("PPO_SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind N trusted reverse proxies (docker-compose's TLS proxy: 1), the client address is
# read from X-Forwarded-For; with 0 the header is ignored, so it cannot be forged.
PPO_PROXY_COUNT = env.int("PPO_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "access.context.client_ip"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# Security headers on every response, in every environment (README "Security headers").
# A strict CSP: scripts, styles, fonts and images from this site only, no inline script or
# style, no eval, no plugins; nothing may frame the service and forms post only to it.
# (csp.middleware.CSPMiddleware; Swagger UI's and the admin's pages work within it.)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        # The design systems' and Swagger UI's CSS draw a few icons as data: URIs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# ppo_case.security_headers: no camera, microphone, location or other powerful feature.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [
    ("govuk", BASE_DIR / "node_modules/govuk-frontend/dist/govuk"),
    ("moj", BASE_DIR / "node_modules/@ministryofjustice/frontend/moj"),
    BASE_DIR / "frontend/build",
    # The project's own static files: the GOV.UK/MoJ start-up script, icons, print styles.
    BASE_DIR / "static",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    # The partner API authenticates by token only (access.api_clients): no session, so
    # no CSRF, and a signed-in browser cannot call it by accident.
    "DEFAULT_AUTHENTICATION_CLASSES": ["access.api_clients.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "access.api.exception_handler",
    # Per API client (access.api_clients.ApiClientRateThrottle); 429 in the error shape.
    "DEFAULT_THROTTLE_RATES": {"api_client": env("PPO_API_RATE", default="600/minute")},
}
# The largest request body the partner API reads (413 beyond it).
PPO_API_MAX_BODY_BYTES = 64 * 1024
SPECTACULAR_SETTINGS = {
    "TITLE": "PPO Case partner API",
    "DESCRIPTION": (
        "The partner agencies' API. Authenticate with `Authorization: Bearer <token>` (a "
        "token from the scheme's PPO manager). Every error has one shape: "
        '`{"detail": "...", "errors": {"field": ["message"]}}`.'
    ),
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The schema and docs: to a partner with a token, or to staff signed in on the pages.
    "SERVE_AUTHENTICATION": [
        "access.api_clients.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ serves Swagger UI from drf-spectacular-sidecar's static files (no CDN) and
    # its start-up script from a URL of its own (SpectacularSwaggerSplitView): the CSP holds.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Four records have a "status" with its own choices: each its own named enum.
    "ENUM_NAME_OVERRIDES": {
        "ActionStatusEnum": "pathways.models.ActionStatus",
        "ReferralStatusEnum": "pathways.models.ReferralStatus",
        "ReviewStatusEnum": "selection.models.ReviewStatus",
        "ConferenceStatusEnum": "conferences.models.ConferenceStatus",
    },
}

REDIS_URL = env("REDIS_URL", default="")
# The API's per-client throttle counts in the default cache: shared through Redis when it
# is configured, so every worker counts the same requests; per process otherwise.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# No broker configured means the zero-set-up default: run tasks in-process.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The tasks acknowledge late (selection.tasks): a worker reserves one message at a time,
# so one that dies puts back only the task it was running.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The queue tasks are sent to and the worker reads: installations sharing one Redis (or a
# test beside the others) each set their own.
CELERY_TASK_DEFAULT_QUEUE = env("PPO_CELERY_QUEUE", default="celery")
# Beat's schedule (`celery -A ppo_case beat`, docker-compose.yml). Fixed here: how often a
# review falls due is the scheme's setting (access.Scheme), read by the sweep itself; beat
# only wakes it daily. 02:30 London time happens exactly once every day: the clocks change
# within 01:00-02:00. If Redis is down at 02:30, beat keeps trying to send for ~10 minutes.
CELERY_BEAT_SCHEDULE = {
    "sweep-reviews": {
        "task": "selection.tasks.sweep_reviews",
        "schedule": crontab(hour=2, minute=30),
        "options": {
            "retry": True,
            "retry_policy": {
                "max_retries": 12,
                "interval_start": 5,
                "interval_step": 10,
                "interval_max": 60,
            },
        },
    },
    # 003 Annex A: the year's NI30 cohort is drafted on 1 April (the people on the PPO
    # tier that day) for the PPO manager to confirm; 03:00, after the night's sweep.
    "draft-ni30-cohort": {
        "task": "reporting.tasks.draft_ni30_cohort",
        "schedule": crontab(month_of_year=4, day_of_month=1, hour=3, minute=0),
        "options": {"retry": True},
    },
}

GUARDIAN_RAISE_403 = False

# One console handler (stderr) for web, worker and beat, each line with its request id
# and no query strings (ppo_case.logging). DJANGO_LOG_FORMAT: "text" (readable, the
# default here) or "json" (one object a line: production's default).
LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="text")
LOGGING = logging_config(LOG_LEVEL, LOG_FORMAT)
# The worker and beat keep this LOGGING (and its format) instead of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# offenders.OffendingEvent's covering index (INCLUDE kind, category) is for PostgreSQL's
# index-only scans in selection scoring; SQLite builds it as a plain (offender,
# occurred_on) index, which is all the embedded default needs, so its warning is noise.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
