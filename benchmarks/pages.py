#!/usr/bin/env python
"""Benchmark: the casework pages under gunicorn on a large scheme, beside hand-written SQL
for the same rows (issue 15 item 1). Measurement only.

    .venv/bin/python benchmarks/pages.py [--requests 20] [--clients 10] [--seconds 5]

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/ppo_bench_pages, created and
migrated if missing) is built with benchmarks/builder.py at the issue's size unless it
already holds people (then reused): 250 current PPOs over 3 key workers (a PPO manager and
3 key workers at the builder's probation service), 50,000 people, 1,000,000 offending
events (a tenth of people hold about half), 60,000 contacts, one PPO with 5,000 more events
and 2,000 of the contacts.

It serves the database with gunicorn (2 workers, production settings, benchmarks/serve.py)
with PPO_REQUIRE_TWO_FACTOR=false (the staff have no second factor: the sign-in is the
password step only), signs in as the PPO manager and as a key worker through /sign-in/
(session cookie), and prints per page and role: median and p95 of warm sequential requests,
the page's query count (a Django test client in this process, CaptureQueriesContext: the
production code is untouched), the median of a hand-written SQL query for the same rows
and the page's ratio to it, and requests a second with --clients concurrent users.

It writes to the database: the staff (once), audit rows for every page served, sessions.
Use a ppo_bench_pages* database of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ppo_bench_pages"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.setdefault("PPO_REQUIRE_TWO_FACTOR", "false")
ROOT = Path(__file__).resolve().parent.parent


def _ensure_database(url: str) -> None:
    """Create and migrate the default benchmark database if it does not exist yet."""
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    listed = subprocess.run(  # noqa: S603
        ["psql", "-h", parts.hostname or "", "-U", parts.username or "", "-lqtA"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if any(line.split("|")[0] == name for line in listed.splitlines()):
        return
    if not name.startswith("ppo_bench_pages"):
        raise SystemExit(f"{name} does not exist: create and migrate it first")
    subprocess.run(  # noqa: S603
        ["createdb", "-h", parts.hostname or "", "-U", parts.username or "", name],  # noqa: S607
        check=True,
    )
    subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
        check=True,
        env=os.environ | {"DJANGO_DEBUG": "false"},
    )


if __name__ == "__main__":
    _ensure_database(os.environ["DATABASE_URL"])

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api  # noqa: E402
import builder  # noqa: E402  (sets up Django)
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from serve import Server, production_env, serve  # noqa: E402

SIZES = {
    "offenders": 50_000,
    "events": 1_000_000,
    "ppos": 250,
    "key_workers": 3,
    "contacts": 60_000,
    "heavy_events": 5_000,
    "heavy_contacts": 2_000,
}
WEEKS = 13

# The same rows as each page by hand: what the page shows, one statement, no ORM.
CURRENT_PPOS = """
    SELECT o.id FROM offenders_offender o
    WHERE EXISTS (SELECT 1 FROM offenders_programmeepisode p WHERE p.offender_id = o.id
                  AND p.kind = 'ppo' AND p.deselected_on IS NULL)
"""
SQL: dict[str, str] = {
    # Current PPOs (the key worker's own) with key worker, last contact, open custody.
    "caseload": f"""
        SELECT o.id, o.first_name, o.last_name, o.pnc_id, o.iom_grade, u.username,
               (SELECT max(c.occurred_at) FROM offenders_contact c WHERE c.offender_id = o.id),
               (SELECT c.kind FROM offenders_custodyepisode c WHERE c.offender_id = o.id
                AND c.released_on IS NULL ORDER BY c.started_on DESC LIMIT 1)
        FROM offenders_offender o LEFT JOIN auth_user u ON u.id = o.key_worker_id
        WHERE o.id IN ({CURRENT_PPOS}) AND (%(kw)s::bigint IS NULL OR o.key_worker_id = %(kw)s)
        ORDER BY o.last_name, o.first_name, o.id
    """,  # noqa: S608
    # The first page of the people list (25, by name) with custody status.
    "people list": """
        SELECT o.id, o.first_name, o.last_name, o.pnc_id, o.date_of_birth, u.username,
               EXISTS (SELECT 1 FROM offenders_custodyepisode c WHERE c.offender_id = o.id
                       AND c.released_on IS NULL)
        FROM offenders_offender o LEFT JOIN auth_user u ON u.id = o.key_worker_id
        ORDER BY o.last_name, o.first_name, o.id LIMIT 25
    """,
    # The person, latest 10 events, 10 contacts, 10 drug tests, custody episodes.
    "profile": """
        SELECT 'person', o.id, o.last_name, NULL::date FROM offenders_offender o
            WHERE o.id = %(pk)s
        UNION ALL (SELECT 'event', e.id, e.kind, e.occurred_on FROM offenders_offendingevent e
            WHERE e.offender_id = %(pk)s ORDER BY e.occurred_on DESC, e.id DESC LIMIT 10)
        UNION ALL (SELECT 'contact', c.id, c.kind, c.occurred_at::date FROM offenders_contact c
            WHERE c.offender_id = %(pk)s ORDER BY c.occurred_at DESC, c.id DESC LIMIT 10)
        UNION ALL (SELECT 'test', d.id, d.result, d.tested_at::date FROM offenders_drugtest d
            WHERE d.offender_id = %(pk)s ORDER BY d.tested_at DESC LIMIT 10)
        UNION ALL (SELECT 'custody', c.id, c.kind, c.started_on
            FROM offenders_custodyepisode c WHERE c.offender_id = %(pk)s)
    """,
    # Newest 201 of each kind (the timeline keeps 200 a kind and reads one more).
    "timeline": """
        (SELECT 'event', e.id, e.kind, e.occurred_on FROM offenders_offendingevent e
            WHERE e.offender_id = %(pk)s ORDER BY e.occurred_on DESC, e.id DESC LIMIT 201)
        UNION ALL (SELECT 'contact', c.id, c.kind, c.occurred_at::date FROM offenders_contact c
            WHERE c.offender_id = %(pk)s ORDER BY c.occurred_at DESC, c.id DESC LIMIT 201)
        UNION ALL (SELECT 'test', d.id, d.result, d.tested_at::date FROM offenders_drugtest d
            WHERE d.offender_id = %(pk)s ORDER BY d.tested_at DESC LIMIT 201)
        UNION ALL (SELECT 'custody', c.id, c.kind, c.started_on
            FROM offenders_custodyepisode c WHERE c.offender_id = %(pk)s LIMIT 201)
    """,
    # Contacts of current PPOs per person and week over the last 13 weeks.
    "compliance": f"""
        SELECT c.offender_id, date_trunc('week', c.occurred_at) AS week, count(*),
               count(*) FILTER (WHERE c.outcome = 'attended')
        FROM offenders_contact c
        WHERE c.offender_id IN ({CURRENT_PPOS})
          AND c.occurred_at >= now() - interval '{WEEKS} weeks'
          AND (%(kw)s::bigint IS NULL OR c.offender_id IN
               (SELECT id FROM offenders_offender WHERE key_worker_id = %(kw)s))
        GROUP BY 1, 2 ORDER BY 1, 2
    """,  # noqa: S608
}


@dataclass
class Row:
    page: str
    role: str
    median_ms: float
    p95_ms: float
    queries: int
    sql_ms: float
    rps: float = 0.0
    failures: str = ""


def _sign_in(server: Server, username: str) -> dict[str, str]:
    """The password step of /sign-in/, as a browser: the cookies of a signed-in session."""
    import http.client

    parts = urllib.parse.urlsplit(server.url)
    cookies: dict[str, str] = {}

    def request(method: str, path: str, body: str = "") -> tuple[int, str]:
        # Long: the workers may still be answering a throughput run's queued requests.
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=300)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookies[name] = rest.split(";")[0]
        conn.close()
        return response.status, text

    status, page = request("GET", "/sign-in/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not found:
        raise RuntimeError(f"no CSRF token on /sign-in/ ({status}): {page[:300]}")
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": found.group(1),
            "username": username,
            "password": builder.STAFF_PASSWORD,
        }
    )
    status, _ = request("POST", "/sign-in/", form)
    if status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"sign-in as {username} failed ({status})")
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def _collect_static(database_url: str, root: Path) -> None:
    """collectstatic with the production settings (hashed names, as the image does), into
    `root`: the production storage refuses to render a page without its manifest."""
    env = production_env(database_url, 0, 1) | {"DJANGO_STATIC_ROOT": str(root)}
    subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
        check=True,
        env=env,
        cwd=ROOT,
    )


def _warm(server: Server, path: str, headers: dict[str, str], requests: int) -> list[float]:
    for _ in range(3):
        status, _ = api._get(server, path, "", headers)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return [api._get(server, path, "", headers)[1] for _ in range(requests)]


def _queries(user: User, path: str) -> int:
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    client.get(path)  # first request: sessions, caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"in-process {path} answered {response.status_code}")
    return len(captured.captured_queries)


def _sql_ms(sql: str, params: dict[str, Any], repeats: int) -> float:
    seconds = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.fetchall()
        for _ in range(repeats):
            start = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1000


def _percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def _build_or_reuse() -> tuple[int, int]:
    """Build at the issue's size unless people are there; the heavy and a typical PPO."""
    held = builder._execute("SELECT EXISTS (SELECT 1 FROM offenders_offender)")[0][0]
    if not held:
        print("building the scheme (benchmarks/builder.py):")
        built = builder.build(**SIZES)  # type: ignore[arg-type]
        print(f"  built in {built.seconds['total']:.0f} s")
    else:
        print("reusing the scheme in the database")
    rows = builder._execute(
        f"SELECT e.offender_id, count(*) FROM offenders_offendingevent e "  # noqa: S608
        f"WHERE e.offender_id IN ({CURRENT_PPOS}) GROUP BY 1 ORDER BY 2 DESC"
    )
    heavy = rows[0][0]
    typical = rows[len(rows) // 2][0]
    print(
        f"heavy PPO {heavy} ({rows[0][1]:,} events), typical PPO {typical} "
        f"({rows[len(rows) // 2][1]:,} events, the median of {len(rows)} PPOs)"
    )
    return heavy, typical


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="warm requests per page (20)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent users (10)")
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput run (5)")
    parser.add_argument("--pages", default="", help="comma-separated subset of pages")
    parser.add_argument("--roles", default="", help="'PPO manager' and/or 'key worker'")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return 1
    heavy, typical = _build_or_reuse()
    manager = User.objects.get(username=builder.STAFF_MANAGER)
    key_worker = User.objects.get(username=builder.STAFF_KEY_WORKER.format(1))
    # The heavy PPO is the first key worker's (the builder shares PPOs out in turn).
    pages: dict[str, tuple[str, str, dict[str, Any]]] = {
        "caseload": ("/", "caseload", {}),
        "people list": ("/people/", "people list", {}),
        "profile heavy": (f"/people/{heavy}/", "profile", {"pk": heavy}),
        "profile typical": (f"/people/{typical}/", "profile", {"pk": typical}),
        "timeline heavy": (f"/people/{heavy}/timeline/", "timeline", {"pk": heavy}),
        "timeline typical": (f"/people/{typical}/timeline/", "timeline", {"pk": typical}),
        "compliance": ("/people/compliance/", "compliance", {}),
    }
    if args.pages:
        wanted = {name.strip() for name in args.pages.split(",")}
        pages = {name: page for name, page in pages.items() if name in wanted}
    roles = {"PPO manager": manager, "key worker": key_worker}
    if args.roles:
        wanted_roles = {name.strip() for name in args.roles.split(",")}
        roles = {name: user for name, user in roles.items() if name in wanted_roles}
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    jit = builder._execute("SHOW jit")[0][0]
    load = " ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"gunicorn 2 workers, production settings; jit {jit}; load average {load}")
    rows: list[Row] = []
    # Collected once (minutes on a busy machine: hashing and compressing), then reused.
    static_root = Path(tempfile.gettempdir()) / "ppo-bench-pages-static"
    if not (static_root / "staticfiles.json").exists():
        print(f"collecting static files into {static_root}")
        _collect_static(url, static_root)
    env = {"PPO_REQUIRE_TWO_FACTOR": "false", "DJANGO_STATIC_ROOT": str(static_root)}
    with serve(url, workers=2, extra_env=env) as server:
        for role, user in roles.items():
            headers = _sign_in(server, user.username)
            kw: int | None = None if user == manager else user.pk
            for name, (path, sql_name, params) in pages.items():
                times = _warm(server, path, headers, args.requests)
                row = Row(
                    page=name,
                    role=role,
                    median_ms=statistics.median(times) * 1000,
                    p95_ms=_percentile(times, 95) * 1000,
                    queries=_queries(user, path),
                    sql_ms=_sql_ms(SQL[sql_name], {"kw": kw, **params}, args.requests),
                )
                measured = api._load(server, [path], "", args.clients, args.seconds, headers)
                row.rps = measured.rate
                row.failures = str(measured.failures) if measured.failures else ""
                rows.append(row)
                _print(row)
    print(f"load average after: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    return 1 if any(row.failures for row in rows) else 0


def _print(row: Row, out: Callable[[str], None] = print) -> None:
    ratio = row.median_ms / row.sql_ms if row.sql_ms else 0.0
    out(
        f"{row.page:<17} {row.role:<12} median {row.median_ms:7.1f} ms  p95 "
        f"{row.p95_ms:7.1f} ms  {row.queries:>3} queries  SQL {row.sql_ms:6.2f} ms "
        f"({ratio:5.1f}×)  {row.rps:6.1f} req/s{'  FAILED ' + row.failures if row.failures else ''}"
    )


if __name__ == "__main__":
    sys.exit(main())
