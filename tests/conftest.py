"""Fixtures for the cross-app tests: a live server on a low port, and Debian's Chromium.

Browser journeys drive /usr/bin/chromium (Debian's package) through Playwright's sync
API. Playwright's own browser download (`playwright install`) is never used.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Ports 32768-60999 are the kernel's ephemeral range: a browser connecting to one before
# the server listens can block it for a minute (shared/STACK.md "Ports"). So the live
# server takes the first free port from a fixed low range instead of port 0.
LIVE_SERVER_PORTS = 35


def _live_server_candidates(addr: str) -> tuple[str, list[int]]:
    """`host:port` or `host:first-last` -> host and the ports to try, this worker's first."""
    host, _, ports = addr.partition(":")
    first_text, _, last_text = (ports or "8765").partition("-")
    first = int(first_text)
    last = int(last_text) if last_text else first + LIVE_SERVER_PORTS - 1
    candidates = list(range(first, last + 1))
    # pytest-xdist workers (gw0, gw1, ...) start at different ports so they do not race.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    offset = int(worker) if worker.isdigit() else 0
    shift = offset % len(candidates)
    return host or "127.0.0.1", candidates[shift:] + candidates[:shift]


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Generator[Any]:
    """pytest-django's live server, on the first free port of a low range.

    Replaces pytest-django's fixture of the same name, which takes a single port only
    (Django dropped port ranges in 3.2) and otherwise asks the kernel for an ephemeral one.
    """
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "127.0.0.1:8765"
    )
    host, candidates = _live_server_candidates(addr)
    errors: list[str] = []
    for port in candidates:
        try:
            server = LiveServer(f"{host}:{port}")
        except OSError as error:
            errors.append(f"{port}: {error}")
            continue
        break
    else:
        pytest.fail(f"No free port for the live server on {host}: {'; '.join(errors)}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Generator[Any]:
    """Debian's Chromium, headless, for the whole session."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(`make test` does: apt-get install -y chromium)"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread, which makes
    # Django refuse ORM calls from the test body (SynchronousOnlyOperation). The test
    # body is ordinary synchronous code; the live server answers from its own thread.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class PageProblems:
    """What went wrong in the browser while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.failed_requests]


def _console_error(message: Any, problems: PageProblems) -> None:
    if message.type != "error":
        return
    source = (message.location or {}).get("url", "")
    # Chromium asks every site for /favicon.ico on its own; the service has no icon of
    # its own (it does not use the GOV.UK crown), and the 404 is no fault of a page.
    if source.endswith("/favicon.ico"):
        return
    problems.console_errors.append(f"console error at {source or 'unknown'}: {message.text}")


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, page_problems: PageProblems) -> Generator[Any]:
    """A fresh browser context and page; console errors, uncaught exceptions and
    failed or 4xx/5xx requests are collected in `page_problems`."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.on("console", lambda message: _console_error(message, page_problems))
    tab.on("pageerror", lambda error: page_problems.page_errors.append(f"page error: {error}"))
    tab.on(
        "requestfailed",
        lambda req: page_problems.failed_requests.append(
            f"request failed: {req.method} {req.url} ({req.failure})"
        ),
    )
    tab.on(
        "response",
        lambda response: (
            page_problems.failed_requests.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400
            else None
        ),
    )
    try:
        yield tab
    finally:
        context.close()
