#!/usr/bin/env python
"""Benchmark: the partner API under gunicorn on PostgreSQL, with authentication and audit,
beside the same endpoints without them (issue 12).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helper_b_bench \\
        .venv/bin/python benchmarks/api.py [--clients 10] [--seconds 10] [--workers 3]

On a database built by benchmarks/builder.py (and migrated), as a key worker's API client
of the builder's probation service (made for the run: its scope is the scheme's current and
former PPOs and DYOs), two gunicorns with the production settings (benchmarks/serve.py):

- **audited**: the deployed URLconf: bearer token checked, per-client throttle (counted in
  Redis when --redis-url answers, as in production; its rate raised so that it counts but
  never refuses), the policy's scope and field set, an audit row for every request;
- **bare**: `benchmarks.bare_settings`, whose URLconf (benchmarks/bare_urls.py) serves the
  same two endpoints with the same querysets and serializers, but no authentication, no
  throttle and no audit row.

For each endpoint — a person's record (`/api/v1/people/<id>/`, a different PPO each
time) and the people list (`/api/v1/people/?page_size=50`, the scoped first page) — N
concurrent clients send requests back to back for T seconds against each server in
turn (in --rounds slices, alternately, so that the shared machine's changing load falls on
both alike); it prints requests a second and the median and 95th-percentile latency. Goal: the
audited endpoints at least half the bare ones' requests a second. Exits 1 if missed, or
if any request is not answered 200.

It writes to the database it is given: the throwaway client (its user, membership and
token) and one audit row per audited request. The audit trail refuses DELETE and its
rows keep their user (PROTECT), so at the end the client is revoked and its user made
inactive rather than deleted: point it at a copy (`createdb -T ppo_bench_tenth
helper_b_bench`), not at a database others use. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import random
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import builder  # sets up Django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from serve import Server, serve

from access.models import Agency, ApiClient, Membership, Role
from offenders import selectors

GOAL_RATIO = 0.5
PAGE_SIZE = 50
DETAIL_POOL = 2000
CLIENT_NAME = "Benchmark API client"


@dataclass
class Load:
    """What N clients measured against one server for T seconds."""

    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, other: Load) -> None:
        self.latencies += other.latencies
        self.seconds += other.seconds
        for key, count in other.failures.items():
            self.failures[key] = self.failures.get(key, 0) + count

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100)[p - 1]


def _client(agency: Agency) -> tuple[ApiClient, str]:
    """A key worker's API client of `agency`, made directly (a token is what the
    benchmark needs; creating clients is tested in tests/test_api_clients.py)."""
    token = "ppo_" + secrets.token_urlsafe(32)
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    user = get_user_model().objects.create(username=f"api-benchmark-{stamp}")
    user.set_unusable_password()
    user.save()
    Membership.objects.create(
        user=user, agency=agency, role=Role.KEY_WORKER, started_on=dt.date(2020, 1, 1)
    )
    creator = get_user_model().objects.filter(is_superuser=True).first() or user
    client = ApiClient.objects.create(
        name=f"{CLIENT_NAME} {stamp}",
        agency=agency,
        role=Role.KEY_WORKER,
        user=user,
        token_prefix=token[:8],
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        created_by=creator,
        expires_at=timezone.now() + dt.timedelta(hours=6),
    )
    return client, token


def _retire(client: ApiClient) -> None:
    ApiClient.objects.filter(pk=client.pk).update(revoked_at=timezone.now())
    get_user_model().objects.filter(pk=client.user_id).update(is_active=False)


def _get(
    server: Server, path: str, token: str, headers: dict[str, str] | None = None
) -> tuple[int, float]:
    """One GET with the bearer `token`, or with `headers` instead (the page benchmark's
    session cookie); its status and seconds."""
    parts = urllib.parse.urlsplit(server.url)
    start = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        status = response.status
    finally:
        conn.close()
    return status, time.perf_counter() - start


def _load(
    server: Server,
    paths: list[str],
    token: str,
    clients: int,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> Load:
    """`clients` threads, each sending the next of `paths` as soon as it has an answer."""
    result = Load()
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def run(n: int) -> None:
        rng = random.Random(n)
        mine: list[float] = []
        failed: dict[str, int] = {}
        while time.perf_counter() < stop_at:
            try:
                status, elapsed = _get(server, rng.choice(paths), token, headers)
            except OSError as error:
                failed[type(error).__name__] = failed.get(type(error).__name__, 0) + 1
                continue
            if status == 200:
                mine.append(elapsed)
            else:
                failed[str(status)] = failed.get(str(status), 0) + 1
        with lock:
            result.latencies += mine
            for key, count in failed.items():
                result.failures[key] = result.failures.get(key, 0) + count

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - start
    return result


def _redis_answers(url: str) -> bool:
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except Exception:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients (10)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint and server")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="slices the seconds are cut into, in turn (5)"
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/15",
        help="REDIS_URL for both servers, as in production ('' for none: per-process cache)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return 1
    database = settings.DATABASES["default"]
    database_url = (
        f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    )
    probation_name = next(name for key, name, _ in builder.AGENCIES if key == "probation")
    agency = Agency.objects.filter(name=probation_name).first()
    if agency is None:
        print("Build the data first: benchmarks/builder.py (no builder agencies).", file=sys.stderr)
        return 1

    client, token = _client(agency)
    try:
        in_scope = list(
            selectors.offender_list(user=client.user)
            .order_by("?")
            .values_list("pk", flat=True)[:DETAIL_POOL]
        )
        if not in_scope:
            print("The key worker's scope is empty: no PPOs built?", file=sys.stderr)
            return 1
        endpoints = {
            "person detail": [f"/api/v1/people/{pk}/" for pk in in_scope],
            "people list": [f"/api/v1/people/?page_size={PAGE_SIZE}"],
        }
        env = {"PPO_API_RATE": "100000000/minute"}
        redis = _redis_answers(args.redis_url)
        if redis:
            env["REDIS_URL"] = args.redis_url
        bare_env = env | {
            "DJANGO_SETTINGS_MODULE": "benchmarks.bare_settings",
            "PPO_BENCH_BARE_USER_ID": str(client.user_id),
        }
        print(
            f"{len(in_scope)} people to read of the key worker's scope; {args.clients} clients, "
            f"{args.seconds:g} s per run, gunicorn {args.workers} sync workers, "
            f"throttle counted in {'Redis' if redis else 'each worker'}"
        )
        results: dict[tuple[str, str], Load] = {}
        with (
            serve(database_url, workers=args.workers, extra_env=env) as audited,
            serve(database_url, workers=args.workers, extra_env=bare_env) as bare,
        ):
            servers = {"audited": audited, "bare": bare}
            for name, paths in endpoints.items():
                for variant, server in servers.items():
                    # Each worker's first requests load code and open its connection.
                    _load(server, paths, token, args.clients, min(2.0, args.seconds))
                    results[(name, variant)] = Load()
                # The two in turn, a slice at a time, so that a change in the machine's
                # load (it is shared) falls on both alike.
                for _ in range(args.rounds):
                    for variant, server in servers.items():
                        results[(name, variant)].add(
                            _load(server, paths, token, args.clients, args.seconds / args.rounds)
                        )
                for variant in servers:
                    load = results[(name, variant)]
                    failures = f"  FAILED {load.failures}" if load.failures else ""
                    print(
                        f"{name:<14} {variant:<8} {load.rate:8.1f} req/s  "
                        f"p50 {load.percentile(50) * 1000:7.1f} ms  "
                        f"p95 {load.percentile(95) * 1000:7.1f} ms  "
                        f"({len(load.latencies)} requests){failures}"
                    )
    finally:
        _retire(client)

    ok = True
    for name in endpoints:
        audited_load, bare_load = results[(name, "audited")], results[(name, "bare")]
        ratio = audited_load.rate / bare_load.rate if bare_load.rate else 0.0
        met = ratio >= GOAL_RATIO and not audited_load.failures and not bare_load.failures
        ok = ok and met
        print(
            f"{name:<14} audited / bare = {ratio:.2f} (goal at least {GOAL_RATIO:.2f}): "
            f"{'met' if met else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
