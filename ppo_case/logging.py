"""Log lines an operator can use: one JSON object a line, each with its request id, and no
personal data (issue 14 item 6).

- `RequestIdMiddleware` (first in MIDDLEWARE) gives every request an id: the reverse
  proxy's `X-Request-ID` when it sends a well-formed one, a fresh one otherwise. It is
  sent back in the response's `X-Request-ID` (gunicorn's access line reads it from there)
  and put on every log line written while the request runs.
- `RequestIdFilter` puts `request_id` (and, in a Celery worker, `task_id`) on each record.
- `RedactQueryStrings` cuts the query string out of anything in a message that looks like
  a path: the people search is `/people/?q=<name or PNC ID>`, and Django's development
  server logs each request line verbatim.
- `JsonFormatter` writes a fixed set of fields. It is a small `logging.Formatter`
  subclass rather than python-json-logger because that library copies every `extra`
  attribute of a record into the line, and Django's own records carry the request object
  itself (its repr is the full path with the query string); a fixed list of fields cannot
  leak what a later `extra=` adds.

Production settings use the JSON formatter; local development keeps readable text
(DJANGO_LOG_FORMAT=json|text chooses either way).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the settings import this module: keep Django's request machinery out
    from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id may look like (nginx's $request_id is 32 hex digits); anything else
# is replaced, so a client cannot write arbitrary text into the log.
_WELL_FORMED_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("ppo_request_id", default="")

# A path with a query string: "/people/?q=Smith" -> "/people/?[query-removed]".
_QUERY_STRING = re.compile(r"(?P<path>/[^\s\"'?]*)\?[^\s\"']*")
QUERY_REMOVED = "?[query-removed]"  # no space: cutting twice changes nothing

# gunicorn's access-log atoms (ops/gunicorn.conf.py) copied into the JSON line as fields.
# No query string (`q`), no referrer (`f`: the previous page's search), no request line
# (`r`, which has the query string) and no client address (`h`: the audit trail keeps it).
GUNICORN_ACCESS_FIELDS = {
    "m": "method",
    "U": "path",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "{x-request-id}o": "request_id",
}


def current_request_id() -> str:
    return _request_id.get()


def new_request_id(offered: str | None = None) -> str:
    if offered and _WELL_FORMED_ID.match(offered):
        return offered
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each request an id for its log lines and its response's `X-Request-ID`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        # Django logs a 4xx/5xx response ("Not Found: /people/9/") after the middleware
        # has returned, with the request on the record: the filter finds the id there.
        request.META["ppo_case.request_id"] = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _task_id() -> str:
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover (celery is a dependency)
        return ""
    task = current_task
    if task is None or not getattr(task, "request", None):
        return ""
    return str(getattr(task.request, "id", "") or "")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (the current request's, or the one on Django's record) and
    `task_id` (the Celery task being run) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            request = getattr(record, "request", None)
            meta = getattr(request, "META", None)
            from_request = meta.get("ppo_case.request_id", "") if isinstance(meta, dict) else ""
            record.request_id = current_request_id() or from_request
        if not getattr(record, "task_id", ""):
            record.task_id = _task_id()
        return True


def redact_query_strings(text: str) -> str:
    return _QUERY_STRING.sub(lambda match: match["path"] + QUERY_REMOVED, text)


class RedactQueryStrings(logging.Filter):
    """Removes query strings from the message (its arguments merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "gunicorn.access":
            return True  # its fields are chosen one by one (GUNICORN_ACCESS_FIELDS)
        message = record.getMessage()
        redacted = redact_query_strings(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id,
    task_id, process, and the exception's traceback if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            atoms = record.args
            line["message"] = "request"
            for atom, field in GUNICORN_ACCESS_FIELDS.items():
                value: Any = atoms.get(atom)
                if value in (None, "-"):
                    continue
                line[field] = int(value) if field == "status" and str(value).isdigit() else value
        else:
            line["message"] = record.getMessage()
        for field in ("request_id", "task_id"):
            value = getattr(record, field, "")
            if value and field not in line:
                line[field] = value
        line["process"] = record.process
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Readable lines for local development, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [getattr(record, "request_id", ""), getattr(record, "task_id", "")]
        record.ids = "".join(f" [{value}]" for value in ids if value)
        return super().format(record)


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """Django's LOGGING (and gunicorn's logconfig_dict): one console handler on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "ppo_case.logging.RequestIdFilter"},
            "redact": {"()": "ppo_case.logging.RedactQueryStrings"},
        },
        "formatters": {
            "json": {"()": "ppo_case.logging.JsonFormatter"},
            "text": {"()": "ppo_case.logging.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "text",
                "filters": ["request_id", "redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "axes": {"level": "WARNING"},
            # WeasyPrint logs every step and page of every PDF at INFO ("Step 5 - Creating
            # layout - Page 83"), and fontTools each font it subsets: noise in the log.
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
            # At DEBUG, SQL is logged with its parameters (names, PNC IDs) when DEBUG is on,
            # and a template's whole context (the people on the page) for each variable it
            # does not find: never, whatever DJANGO_LOG_LEVEL says.
            "django.db.backends": {"level": "INFO"},
            "django.template": {"level": "INFO"},
            # Python's warnings (Django captures them) in the same format, not raw stderr.
            "py.warnings": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            # Django's development server logs each request line through a handler of its
            # own (Django's defaults): through this one instead, query strings cut.
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # gunicorn's own loggers (ops/gunicorn.conf.py): through the same handler.
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
