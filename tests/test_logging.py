"""Logs an operator can use (issue 14 item 6): JSON lines with request ids, and no
personal data in them (ppo_case/logging.py).

The last test drives a whole journey through the demo scheme in Chromium with every
logger at DEBUG, and searches what was logged for each demo person's names, PNC ID,
prison number, CRN and date of birth.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.utils.module_loading import import_string
from playwright.sync_api import expect

from access.models import Role
from demo.scheme import demo_password
from offenders.models import Offender
from ppo_case.logging import (
    QUERY_REMOVED,
    JsonFormatter,
    RedactQueryStrings,
    RequestIdFilter,
    TextFormatter,
    logging_config,
    redact_query_strings,
)
from tests.factories import sign_in, staff
from tests.ops_support import REPO


class Captured:
    def __init__(self, stream: io.StringIO):
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Every record at DEBUG, through production's filters and JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    # Production's console handler: its formatter and filters, as LOGGING names them.
    config = logging_config("DEBUG", "json")
    console = config["handlers"]["console"]
    handler.setFormatter(import_string(config["formatters"][console["formatter"]]["()"])())
    for name in console["filters"]:
        handler.addFilter(import_string(config["filters"][name]["()"])())
    root = logging.getLogger()
    # DJANGO_LOG_LEVEL=DEBUG: the root at DEBUG, the loggers LOGGING names at their levels;
    # those that do not pass records on to the root (django.server, ...) captured too.
    level = root.level
    root.setLevel(logging.DEBUG)
    own_handler = [
        logging.getLogger(name)
        for name, logger in config["loggers"].items()
        if logger.get("propagate") is False
    ]
    for logger in [root, *own_handler]:
        logger.addHandler(handler)
    try:
        yield Captured(stream)
    finally:
        for logger in [root, *own_handler]:
            logger.removeHandler(handler)
        root.setLevel(level)


def test_the_test_settings_log_as_production_does_apart_from_the_format() -> None:
    """So the capture above sees what production's loggers would pass on."""
    from django.conf import settings

    production = logging_config("DEBUG", "json")
    assert settings.LOGGING["loggers"] == production["loggers"]
    for name, config in production["loggers"].items():
        if "level" in config:
            assert logging.getLogger(name).level == logging.getLevelName(config["level"])


def _record(name: str, msg: str, args: Any = (), **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def _format(record: logging.LogRecord) -> dict[str, Any]:
    RequestIdFilter().filter(record)
    RedactQueryStrings().filter(record)
    return json.loads(JsonFormatter().format(record))


# --- The lines themselves -----------------------------------------------------------------


def test_a_line_is_one_json_object_with_time_level_logger_and_message() -> None:
    line = _format(_record("reporting.tasks", "Annual report %s: %s", (7, "ready")))
    assert line["message"] == "Annual report 7: ready"
    assert line["level"] == "INFO" and line["logger"] == "reporting.tasks"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert "request_id" not in line  # outside a request


def test_an_exception_is_kept_in_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in line["exception"]


def test_query_strings_are_cut_from_messages_such_as_the_development_servers(
    captured: Captured,
) -> None:
    # django.server (runserver) logs the request line verbatim.
    logging.getLogger("django.server").info(
        '"%s" %s %s', "GET /people/?q=Pollard&tier=red HTTP/1.1", "200", "12"
    )
    (line,) = captured.lines()
    assert line["message"] == f'"GET /people/{QUERY_REMOVED} HTTP/1.1" 200 12'
    assert "Pollard" not in captured.text
    assert redact_query_strings(line["message"]) == line["message"]  # cut once only


def test_sql_and_template_contexts_are_not_logged_even_at_debug(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Even with Django's own logger (INFO by Django's defaults) lowered to DEBUG.
    monkeypatch.setattr(logging.getLogger("django"), "level", logging.DEBUG)
    logging.getLogger("django.db.backends").debug("(0.001) SELECT ... 'Pollard'")
    logging.getLogger("django.template").debug("Failed lookup in {'offender': Pollard}")
    logging.getLogger("django.request").debug("still logged")
    assert "Pollard" not in captured.text
    assert "still logged" in captured.text


def test_extra_attributes_such_as_djangos_request_are_not_copied_into_the_line() -> None:
    request = RequestFactory().get("/people/", {"q": "Pollard 19/123456X"})
    line = _format(_record("django.request", "Not Found: %s", ("/people/",), request=request))
    assert "Pollard" not in json.dumps(line) and "123456X" not in json.dumps(line)
    assert set(line) == {"time", "level", "logger", "message", "process"}


def test_gunicorns_access_line_has_chosen_fields_only() -> None:
    atoms = {
        "m": "GET",
        "U": "/people/",
        "q": "q=Pollard",
        "r": "GET /people/?q=Pollard HTTP/1.1",
        "f": "https://ppo.example/people/?q=Pollard",
        "a": "Mozilla/5.0",
        "h": "203.0.113.9",
        "s": "200",
        "B": 5120,
        "M": 41,
        "{x-request-id}o": "0123456789abcdef0123456789abcdef",
    }
    line = _format(_record("gunicorn.access", "%(m)s %(U)s", atoms))
    assert line == {
        "time": line["time"],
        "level": "INFO",
        "logger": "gunicorn.access",
        "message": "request",
        "method": "GET",
        "path": "/people/",
        "status": 200,
        "bytes": 5120,
        "duration_ms": 41,
        "request_id": "0123456789abcdef0123456789abcdef",
        "process": line["process"],
    }


def test_the_readable_format_shows_the_request_id() -> None:
    record = _record("x", "hello", request_id="abc123def456")
    assert TextFormatter().format(record).endswith("INFO x [abc123def456]: hello")


# --- Request ids --------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_request_has_an_id_on_its_response_and_its_log_lines(client, captured) -> None:
    sign_in(client, staff(Role.PPO_MANAGER))
    response = client.get("/people/999999/")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    # Django logs "Not Found" after the middleware has returned: the id is still there.
    not_found = [line for line in captured.lines() if line["logger"] == "django.request"]
    assert not_found and all(line["request_id"] == request_id for line in not_found)
    assert client.get("/people/999999/")["X-Request-ID"] != request_id


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_and_a_malformed_one_replaced(client) -> None:
    offered = "f3b2c1d0e9a8b7c6d5e4f3a2b1c0d9e8"
    assert client.get("/healthz", HTTP_X_REQUEST_ID=offered)["X-Request-ID"] == offered
    for bad in ("short", "has spaces in it ok", "x" * 65, "line\nbreak-injected"):
        kept = client.get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert kept != bad and re.fullmatch(r"[0-9a-f]{32}", kept)


# --- Which format where -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings_module", "log_format", "formatter"),
    [
        ("ppo_case.settings.production", "", "json"),
        ("ppo_case.settings.production", "text", "text"),
        ("ppo_case.settings.local", "", "text"),
        ("ppo_case.settings.local", "json", "json"),
    ],
)
def test_production_logs_json_and_local_development_readable_text(
    settings_module: str, log_format: str, formatter: str
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DJANGO_SECRET_KEY": "test-only-" + "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "example.test",
        "DJANGO_LOG_FORMAT": log_format,
    }
    if not log_format:
        del env["DJANGO_LOG_FORMAT"]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; "
            "print(settings.LOGGING['handlers']['console']['formatter'])",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == formatter


# --- A whole journey, and the log searched for personal data ------------------------------


def _identifiers(person: Offender) -> set[str]:
    dob = person.date_of_birth
    found = {
        person.first_name,
        person.last_name,
        f"{person.first_name} {person.last_name}",
        person.pnc_id or "",
        person.prison_number,
        person.crn,
        person.cro_number,
        dob.isoformat(),
        dob.strftime("%d/%m/%Y"),
        f"{dob.day} {dob:%B %Y}",
        *(alias.strip() for alias in person.aliases.split(",")),
    }
    return {value for value in found if value and len(value) >= 3}


@pytest.mark.browser
def test_a_full_journey_through_the_demo_scheme_logs_no_personal_data(
    transactional_db: None, live_server: Any, page: Any, captured: Captured
) -> None:
    from tests.factories import ensure_reference_data

    ensure_reference_data()
    call_command("seed_demo", "--force", stdout=StringIO())
    people = list(Offender.objects.order_by("pk"))
    assert len(people) > 10
    someone = next(person for person in people if person.pnc_id and person.crn)
    start = len(captured.text)

    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password", exact=True).fill(demo_password(1))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/people/?q={someone.last_name}")
    expect(page.locator("main")).to_contain_text(someone.last_name)
    page.goto(f"{live_server.url}/people/?q={someone.pnc_id}")
    page.goto(f"{live_server.url}/people/?q={someone.date_of_birth:%d/%m/%Y}")
    page.goto(f"{live_server.url}/people/{someone.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(someone.last_name)
    page.goto(f"{live_server.url}/people/{someone.pk}/timeline/")
    for path in ("/selection/", "/reports/", "/audit/", "/people/999999/", "/no-such-page/"):
        page.goto(f"{live_server.url}{path}")
    page.goto(f"{live_server.url}/people/?q={someone.crn}")

    log = captured.text[start:]
    # The 404s were logged, so a capture that saw nothing cannot pass the search below.
    assert "django.request" in log
    assert log.count('"request_id"') >= 2
    hits = sorted(
        {
            value
            for person in people
            for value in _identifiers(person)
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", log)
        }
    )
    assert hits == [], f"personal data in the log: {hits}\n{log[:4000]}"
