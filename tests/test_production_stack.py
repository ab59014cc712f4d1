"""The production stack, end to end, without Docker (issue 14 item 3).

What docker-compose starts, started here as subprocesses against the machine's PostgreSQL
and Redis: `collectstatic` into a temporary folder, gunicorn with the production settings
and ops/gunicorn.conf.py, a Celery worker and Celery beat. The database is the test's own,
made empty and migrated by `manage.py migrate`, and dropped at the end; the tasks go to a
queue of the test's own (PPO_CELERY_QUEUE), so nothing else on the shared Redis takes them.

Through gunicorn, over plain HTTP on 127.0.0.1 (DJANGO_SECURE_SSL_REDIRECT=false; the
secure-only cookies are sent back by hand, as a browser behind the TLS proxy would): the
health check, a real sign-in POST with the CSRF cookie and token, the home page and its
CSS, then an annual report asked for on its page, which the web queues and the worker
makes into a PDF. Beat must start and write its schedule file.

Two-factor sign-in is enforced by the production settings (PPO_REQUIRE_TWO_FACTOR); this
test turns it off (PPO_REQUIRE_TWO_FACTOR=false): its subject is the stack, not the
second factor, which has its own tests.

Every process is stopped (SIGTERM, then SIGKILL) and the database dropped, whatever
happens; each wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import shelve
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import yaml

from tests.ops_support import (
    REPO,
    connect,
    database_url,
    manage,
    postgres_url,
    redis_url,
    scratch_database,
    stop,
)

# migrate and collectstatic: ~30 s and ~110 s of CPU; several times that on a busy machine.
SETUP_SECONDS = 900
START_SECONDS = 90  # gunicorn, the worker and beat up (~10 s here)
TASK_SECONDS = 90  # the annual report made by the worker (~5 s here)
PORTS = range(18300, 18400)  # below the ephemeral range (shared/STACK.md "Ports")
USERNAME = "stack.manager"


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"No free port in {PORTS.start}-{PORTS.stop - 1} for gunicorn")


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self) -> str:
        return f"--- {self.name} (exit {self.process.poll()}) ---\n{self.output()[-3000:]}"


@dataclass
class Stack:
    base_url: str
    database: str
    tmp: Path
    env: dict[str, str]
    worker_node: str
    services: dict[str, Service] = field(default_factory=dict)

    def logs(self) -> str:
        return "\n".join(service.tail() for service in self.services.values())

    def wait_for(self, what: str, ready: Callable[[], bool], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not ready():
            for service in self.services.values():
                if service.process.poll() is not None:
                    pytest.fail(f"{service.name} exited while waiting for {what}.\n{self.logs()}")
            if time.monotonic() > deadline:
                pytest.fail(f"No {what} within {seconds} s.\n{self.logs()}")
            time.sleep(0.25)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Browser:
    """Plain HTTP with cookies kept by hand (the production cookies are Secure-only, which
    http.cookiejar would not send over http://), no redirects followed."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, referer: str = ""
    ) -> Response:
        url = urlsplit(urljoin(self.base_url, path))
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = referer or self.base_url + path
        try:
            target = url.path + (f"?{url.query}" if url.query else "")
            connection.request(method, target, body=body, headers=headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        return self.request("POST", path, form)


class FormsParser(HTMLParser):
    """Each form's fields: hidden and text inputs with their values, a select's selected
    (or first) option; and the page's stylesheets."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.stylesheets: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({})
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a["href"])
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1][a["name"]] = a.get("value", "")
        elif tag == "select" and self.forms:
            self._select = a.get("name")
        elif tag == "option" and self._select and self.forms:
            fields = self.forms[-1]
            if self._select not in fields or "selected" in a:
                fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def parse(page: Response) -> FormsParser:
    parser = FormsParser()
    parser.feed(page.text)
    return parser


def _form_with(page: Response, field_name: str) -> dict[str, str]:
    for form in parse(page).forms:
        if field_name in form:
            return dict(form)
    pytest.fail(f"No form with a {field_name!r} field on the page:\n{page.text[:3000]}")


def _start(stack: Stack, stack_exit: ExitStack, name: str, args: list[str]) -> Service:
    log = stack.tmp / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
            args,
            cwd=REPO,
            env=stack.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack_exit.callback(stop, process)
    service = Service(name, process, log)
    stack.services[name] = service
    return service


def _create_manager(env: dict[str, str], password: str) -> None:
    """A PPO manager in a probation agency, made through the models as an operator would
    in `manage.py shell`."""
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from access.models import Agency, AgencyKind, Membership, Role\n"
        "agency = Agency.objects.create(name='Stack Probation', kind=AgencyKind.PROBATION)\n"
        f"user = get_user_model().objects.create_user({USERNAME!r}, password={password!r})\n"
        "Membership.objects.create(user=user, agency=agency, role=Role.PPO_MANAGER)\n"
    )
    manage("shell", "-c", script, env=env, timeout=120)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    postgres_url()
    broker = redis_url()
    with ExitStack() as stack_exit:
        database = stack_exit.enter_context(scratch_database("test_ppo_stack"))
        port = _free_port()
        queue = f"ppo-case-stack-{uuid.uuid4().hex[:12]}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ppo_case.settings.production",
            "DJANGO_SECRET_KEY": "test-only-" + uuid.uuid4().hex * 2,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "PPO_REQUIRE_TWO_FACTOR": "false",
            "DATABASE_URL": database_url(database),
            "REDIS_URL": broker,
            "PPO_CELERY_QUEUE": queue,
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            "DJANGO_LOG_FORMAT": "json",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
        }
        node = f"{queue}@{socket.gethostname()}"
        stack = Stack(f"http://127.0.0.1:{port}", database, tmp_path, env, node)
        # Both at once (each is one process; the machine has two cores). collectstatic with
        # production's storage hashes and compresses ~1,500 files: the slower of the two.
        with ThreadPoolExecutor(max_workers=2) as pool:
            steps = [
                pool.submit(manage, "migrate", "--noinput", env=env, timeout=SETUP_SECONDS),
                pool.submit(
                    manage,
                    "collectstatic",
                    "--noinput",
                    "--verbosity",
                    "0",
                    env=env,
                    timeout=SETUP_SECONDS,
                ),
            ]
            for step in steps:
                step.result()
        bin_dir = Path(sys.executable).parent
        _start(
            stack,
            stack_exit,
            "gunicorn",
            [str(bin_dir / "gunicorn"), "ppo_case.wsgi", "--config", "ops/gunicorn.conf.py"],
        )
        celery = [sys.executable, "-m", "celery", "-A", "ppo_case"]
        _start(
            stack,
            stack_exit,
            "worker",
            [
                *celery,
                *("worker", "--pool=solo", "-c", "1", "--loglevel=INFO", "-n", node),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
        )
        _start(
            stack,
            stack_exit,
            "beat",
            [
                *celery,
                *("beat", "--loglevel", "INFO", "--scheduler", "celery.beat:PersistentScheduler"),
                *("--schedule", str(tmp_path / "celerybeat-schedule")),
            ],
        )
        stack_exit.callback(_forget_queue, broker, queue)
        yield stack


def _forget_queue(broker: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(broker, socket_connect_timeout=3, socket_timeout=3)
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)


def _exit_code(command: list[str], stack: Stack) -> int:
    bin_dir = str(Path(sys.executable).parent)
    env = {**stack.env, "PATH": bin_dir + os.pathsep + stack.env.get("PATH", "")}
    done = subprocess.run(  # noqa: S603 (the compose file's own check)
        command, cwd=REPO, env=env, capture_output=True, timeout=60, check=False
    )
    return done.returncode


def _healthy(stack: Stack) -> bool:
    try:
        return Browser(stack.base_url).get("/healthz").status == 200
    except OSError:
        return False


def test_the_production_stack_signs_in_serves_css_and_runs_a_task(stack: Stack) -> None:
    stack.wait_for("200 from /healthz", lambda: _healthy(stack), START_SECONDS)
    health = Browser(stack.base_url).get("/healthz")
    assert json.loads(health.body) == {"database": "ok", "broker": "ok"}
    assert "sessionid" not in (health.headers.get("Set-Cookie") or "")

    # docker-compose's own health checks, run as written against this stack.
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    port = str(urlsplit(stack.base_url).port)
    web_check = compose["services"]["web"]["healthcheck"]["test"]
    assert web_check[:2] == ["CMD", "python"] and "/healthz" in web_check[-1]
    web_command = [sys.executable, *(part.replace(":8000", f":{port}") for part in web_check[2:])]
    assert _exit_code(web_command, stack) == 0
    worker_check = compose["services"]["worker"]["healthcheck"]["test"]
    assert worker_check[0] == "CMD-SHELL" and "inspect ping" in worker_check[1]
    worker_command = worker_check[1].replace("celery@$$HOSTNAME", stack.worker_node)
    assert _exit_code(["sh", "-c", worker_command], stack) == 0, stack.logs()

    password = "stack-" + uuid.uuid4().hex
    _create_manager(stack.env, password)

    # Sign in as a browser does: the page sets the CSRF cookie, the form carries the token.
    browser = Browser(stack.base_url)
    page = browser.get("/sign-in/")
    assert page.status == 200, page.text[:2000]
    assert "csrftoken" in browser.cookies
    form = _form_with(page, "csrfmiddlewaretoken")
    wrong = browser.post("/sign-in/", {**form, "username": USERNAME, "password": "not-it"})
    assert wrong.status == 200 and "sessionid" not in browser.cookies  # refused, no session
    page = browser.get("/sign-in/")
    form = _form_with(page, "csrfmiddlewaretoken")
    signed_in = browser.post("/sign-in/", {**form, "username": USERNAME, "password": password})
    assert signed_in.status == 302, signed_in.text[:2000]
    assert "sessionid" in browser.cookies

    home = browser.get(signed_in.headers["Location"])
    assert home.status == 200, home.text[:2000]
    assert "Sign out" in home.text
    assert home.headers["X-Request-ID"]
    stylesheets = parse(home).stylesheets
    assert stylesheets, home.text[:2000]
    for href in stylesheets:
        css = browser.get(href)
        assert css.status == 200, href
        assert css.headers["Content-Type"].startswith("text/css"), href
        assert len(css.body) > 1000, href
    # Collected with its hashed name (the manifest), into the folder the test chose.
    assert any(".css" in href and href.startswith("/static/") for href in stylesheets)
    assert list((stack.tmp / "static").rglob("*.css"))

    # A search by name: the term is in the query string, which no log line may keep.
    search = browser.get("/people/?q=Qxsearchterm")
    assert search.status == 200, search.text[:2000]

    # An annual report asked for on its page: the web queues it, the worker makes it.
    page = browser.get("/reports/annual/")
    assert page.status == 200, page.text[:2000]
    asked = browser.post("/reports/annual/", _form_with(page, "year"))
    assert asked.status == 302, asked.text[:2000]
    progress_url = asked.headers["Location"]
    report_id = int(progress_url.rstrip("/").rsplit("/", 1)[-1])

    with connect(stack.database) as db:

        def made() -> bool:
            row = db.execute(
                "SELECT status FROM reporting_annualreport WHERE id = %s", [report_id]
            ).fetchone()
            return row is not None and row[0] in ("ready", "failed")

        stack.wait_for("annual report made by the worker", made, TASK_SECONDS)
        status, size = db.execute(
            "SELECT status, length(pdf) FROM reporting_annualreport WHERE id = %s", [report_id]
        ).fetchone()
    assert status == "ready", stack.logs()
    assert size > 1000
    assert "build_annual_report" in stack.services["worker"].output()
    pdf = browser.get(f"/reports/annual/{report_id}/pdf/")
    assert pdf.status == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF")

    # Beat started and keeps its schedule file (the entries from CELERY_BEAT_SCHEDULE).
    schedule = stack.tmp / "celerybeat-schedule"
    stack.wait_for(
        "beat's schedule file",
        lambda: any(stack.tmp.glob("celerybeat-schedule*")),
        START_SECONDS,
    )
    beat_log = stack.services["beat"].output()
    assert "beat: Starting..." in beat_log, beat_log
    stop(stack.services["beat"].process)
    with shelve.open(str(schedule), flag="r") as saved:  # noqa: S301 (beat's own file, just made)
        assert {"sweep-reviews", "draft-ni30-cohort"} <= set(saved["entries"])

    # Every service logged JSON lines (production's format); gunicorn's access line has
    # the request id the response carried, and no query string anywhere.
    for name in ("gunicorn", "worker", "beat"):
        lines = [
            json.loads(line)
            for line in stack.services[name].output().splitlines()
            if line.startswith("{")
        ]
        assert lines, stack.services[name].tail()
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert "Qxsearchterm" not in "".join(s.output() for s in stack.services.values())
    access = [
        json.loads(line)
        for line in stack.services["gunicorn"].output().splitlines()
        if '"gunicorn.access"' in line
    ]
    assert {"request_id": home.headers["X-Request-ID"], "path": "/", "status": 200}.items() <= (
        next(line for line in access if line.get("request_id") == home.headers["X-Request-ID"])
    ).items()
