"""The zero-set-up default: SQLite, tasks in-process, demo data.

Debug pages are off unless DJANGO_DEBUG=true: people trying the demo should see the
service's own error pages ("Sorry, there is a problem with the service"), never a
stack trace with settings and data in it.
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The demo logins work with a password alone; anyone may still set up two-factor sign-in.
PPO_REQUIRE_TWO_FACTOR = env.bool("PPO_REQUIRE_TWO_FACTOR", default=False)
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
