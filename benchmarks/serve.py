"""gunicorn with the production settings on a given database, on a free local port, for
benchmarks that measure the app as it is deployed (the API benchmark, the pages').

    from benchmarks.serve import serve

    with serve("postgres://postgres@127.0.0.1:5432/helper_b_bench") as server:
        urllib.request.urlopen(server.url + "/healthz")

It starts `gunicorn ppo_case.wsgi --config ops/gunicorn.conf.py` (as docker-compose.yml
does) in its own process group, with what the production settings need and nothing
secret: a random DJANGO_SECRET_KEY made for this run, DJANGO_ALLOWED_HOSTS for
127.0.0.1, plain HTTP (DJANGO_SECURE_SSL_REDIRECT=false: there is no TLS proxy in front),
and waits until `/healthz` answers 200. On leaving the block it stops gunicorn (SIGTERM
to the group, SIGKILL if it has not gone within 10 seconds). `extra_env` adds or
overrides variables, e.g. `DJANGO_SETTINGS_MODULE` for a variant of the settings.

Ports are taken below 32768: above it is the kernel's range for outgoing connections
(ports the load generator's own connections use), see STACK.md.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
HOST = "127.0.0.1"
PORTS = range(20000, 32000)
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:<port>, no trailing slash
    pid: int
    log: Path  # gunicorn's output (start-up, errors), kept for a failed run


def free_port(host: str = HOST) -> int:
    """A port below 32768 that nothing is listening on now."""
    for port in random.sample(PORTS, 50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port found in {PORTS.start}-{PORTS.stop}")


def production_env(database_url: str, port: int, workers: int) -> dict[str, str]:
    """The environment of a production process on this machine, plain HTTP on localhost."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PPO_", "GUNICORN_")) and key != "REDIS_URL"
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ppo_case.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "GUNICORN_BIND": f"{HOST}:{port}",
            "GUNICORN_WORKERS": str(workers),
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}: see {log}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"gunicorn did not answer /healthz within {START_TIMEOUT_SECONDS:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # gunicorn's own process group (start_new_session): its workers go with it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def serve(
    database_url: str,
    *,
    workers: int = 3,
    extra_env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
) -> Iterator[Server]:
    """gunicorn with the production settings on `database_url`, answering on a free
    local port for the duration of the block."""
    port = free_port()
    env = production_env(database_url, port, workers) | dict(extra_env or {})
    log = (log_dir or Path("/tmp")) / f"ppo-gunicorn-{port}.log"  # noqa: S108
    command = [str(GUNICORN), "ppo_case.wsgi", "--config", str(ROOT / "ops" / "gunicorn.conf.py")]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{HOST}:{port}"
    try:
        _wait_until_healthy(url, process, log)
        yield Server(url=url, pid=process.pid, log=log)
    finally:
        _stop(process)
