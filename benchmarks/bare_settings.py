"""The production settings with the API's "bare" URLconf (benchmarks/bare_urls.py), for
benchmarks/api.py only: `DJANGO_SETTINGS_MODULE=benchmarks.bare_settings` is set by the
benchmark for its second gunicorn and nowhere else, so no production code path reads it."""

from ppo_case.settings.production import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bare_urls"
