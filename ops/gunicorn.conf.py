"""gunicorn's settings for PPO Case (docker-compose.yml, the Dockerfile, and the
production-stack test): `gunicorn ppo_case.wsgi -c ops/gunicorn.conf.py`.

Its own log lines (start-up, workers, one line a request) go through the same handler and
format as the app's (ppo_case.logging; JSON unless DJANGO_LOG_FORMAT=text). The access
line has the method, the path without its query string (the people search carries names
and PNC IDs in `?q=`), the status, the size, the time and the request id; no referrer
(the previous page's address, search included) and no user agent.
"""

import os

from ppo_case.logging import logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
# A PDF report can take a few seconds; a request still running after this is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
access_log_format = "%(m)s %(U)s %(s)s %(B)s %(M)sms %({x-request-id}o)s"
logconfig_dict = logging_config(
    os.environ.get("DJANGO_LOG_LEVEL", "INFO"), os.environ.get("DJANGO_LOG_FORMAT", "json")
)
