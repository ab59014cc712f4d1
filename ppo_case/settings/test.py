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

# The cache on Redis gets a database of its own per pytest-xdist worker (1, 2, ...): the
# API tests clear it between tests, which empties the whole Redis database, and must
# empty neither the other worker's throttle counts nor the broker's queues (database 0).
if REDIS_URL:  # noqa: F405
    import os
    from urllib.parse import urlsplit, urlunsplit

    _worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    _cache_db = 1 + (int(_worker) if _worker.isdigit() else 0)
    CACHES["default"]["LOCATION"] = urlunsplit(  # noqa: F405
        urlsplit(REDIS_URL)._replace(path=f"/{_cache_db}")  # noqa: F405
    )
