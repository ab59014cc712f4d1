"""Tests: PostgreSQL and Redis when DATABASE_URL / REDIS_URL point at them, SQLite otherwise."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Tests call tasks in-process even when a broker is configured; the broker is
# exercised by the Celery round-trip test only.
CELERY_TASK_ALWAYS_EAGER = True
AXES_ENABLED = True
# As in the demo: optional; the two-factor tests turn it on where they need it.
PPO_REQUIRE_TWO_FACTOR = False
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
