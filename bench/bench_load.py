"""Load benchmark: gunicorn as `make run` starts it (the Procfile's web line), real HTTP on loopback, the 10M chain.

(a) saturation: 20 clients, each on its own keep-alive connection, read warm dashboards and asset-sales back to
    back; prints answers per second (goal >= 100/s on 2 cores);
(b) the same while a sale arrives every second (each write empties the answer cache: what a chain whose machines
    report as they sell sees);
(c) 50 viewers, each every 2–4 s reading the dashboard, asset-sales and the dashboard page; prints p50 / p95 / max
    and the errors (goal p95 <= 250 ms, 0 errors).

Each client is its own user (its own API token, and a session for the page), as people are. Every request comes
from 127.0.0.1, so the per-address throttle is raised far above the load for the run (the throttle code still
runs, with its Redis counter); the per-user one stays as configured. The load generator is a thread pool in this
process with a fixed number of requests, so it competes for the same 2 cores as the server.

    .venv/bin/python -m bench load          (GUNICORN_WORKERS / GUNICORN_THREADS apply, as for make run)
"""

from __future__ import annotations

import http.client
import os
import random
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "bench_10m"
SATURATION_CLIENTS = 20
SATURATION_REQUESTS = int(os.environ.get("CVD_BENCH_LOAD_REQUESTS", "2000"))
VIEWERS = 50
VIEWER_ROUNDS = int(os.environ.get("CVD_BENCH_LOAD_ROUNDS", "3"))  # each round: dashboard, asset-sales, the page
VIEWER_PAUSE_S = (2.0, 4.0)
SATURATION_GOAL = 100
P95_GOAL_MS = 250
READS = ("/api/analytics/dashboard/", "/api/analytics/asset-sales/")
PAGE = "/dashboard/"
FEED_EVERY_S = 1.0


@dataclass
class Viewer:
    token: str
    session: str


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ms: float, error: str | None) -> None:
        with self.lock:
            self.latencies_ms.append(ms)
            if error:
                self.errors[error] = self.errors.get(error, 0) + 1


class Client:
    """One keep-alive HTTP/1.1 connection to the server, reconnecting when the server closes it."""

    def __init__(self, port: int, host: str, headers: dict[str, str]) -> None:
        self.port, self.headers = port, {"Host": host, **headers}
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, extra: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("GET", path, headers={**self.headers, **(extra or {})})
                response = self.conn.getresponse()
                body = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, body
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the keep-alive connection timed out on the server's side: one fresh try
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def _viewers(chain: Any, count: int) -> list[Viewer]:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from chains.services import chain_user_create

    out = []
    for i in range(count):
        created = chain_user_create(chain=chain, username=f"bench-load-{i}", email="bench@example.com", role="viewer",
                                    with_token=True)
        assert created.token is not None
        with schema_context(chain.schema_name):
            user = get_user_model().objects.get(username=f"bench-load-{i}")
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            out.append(Viewer(token=created.token, session=str(session.session_key)))
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    return out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """The Procfile's web line (as `make run` runs it), on `port`, its control socket and access log under var/."""
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))[4:]
    web = web.replace("var/gunicorn.ctl", "var/gunicorn-bench.ctl")
    environment = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "HOST")}
    environment.update(PORT=str(port), **env)
    with open(log, "wb") as out:
        server = subprocess.Popen(["bash", "-c", f"exec {web}"], cwd=ROOT, env=environment, stdout=out,  # noqa: S603, S607
                                  stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen; see {log}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, 15)
    server.wait(timeout=60)


def _check(status: int, body: bytes, path: str) -> str | None:
    return None if status == 200 else f"{path} {status}"


def _saturation(
    port: int, host: str, viewers: list[Viewer], paths: tuple[str, ...] = READS, *, requests: int = SATURATION_REQUESTS
) -> tuple[float, Results]:
    results = Results()
    per_client = requests // SATURATION_CLIENTS
    start = threading.Barrier(SATURATION_CLIENTS + 1)

    def client(viewer: Viewer, index: int) -> None:
        http_client = Client(port, host, {"Authorization": f"Token {viewer.token}"})
        start.wait()
        for i in range(per_client):
            path = paths[(i + index) % len(paths)]
            started = time.perf_counter()
            status, body = http_client.get(path)
            results.add((time.perf_counter() - started) * 1000, _check(status, body, path))
        http_client.close()

    with ThreadPoolExecutor(SATURATION_CLIENTS) as pool:
        futures = [pool.submit(client, viewers[i], i) for i in range(SATURATION_CLIENTS)]
        start.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    return per_client * SATURATION_CLIENTS / elapsed, results


def _viewing(port: int, host: str, viewers: list[Viewer]) -> tuple[float, Results]:
    results = Results()

    def viewer(person: Viewer, seed: int) -> None:
        rng = random.Random(seed)
        api = Client(port, host, {"Authorization": f"Token {person.token}"})
        page = Client(port, host, {"Cookie": f"{settings.SESSION_COOKIE_NAME}={person.session}"})
        time.sleep(rng.uniform(0, VIEWER_PAUSE_S[1]))  # people do not arrive at the same instant
        for _ in range(VIEWER_ROUNDS):
            for client, path in ((api, READS[0]), (api, READS[1]), (page, PAGE)):
                started = time.perf_counter()
                try:
                    status, body = client.get(path)
                    error = _check(status, body, path)
                except OSError as exc:
                    error = f"{path} {type(exc).__name__}"
                ms = (time.perf_counter() - started) * 1000
                results.add(ms, error)
            time.sleep(rng.uniform(*VIEWER_PAUSE_S))
        api.close()
        page.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(VIEWERS) as pool:
        for future in [pool.submit(viewer, viewers[i], i) for i in range(VIEWERS)]:
            future.result()
    return time.perf_counter() - started, results


def _summary(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, max {max(samples):.0f} ms"


@contextmanager
def _sales_arriving(every_s: float) -> Iterator[list[int]]:
    """A telemetry feed for the duration: a sale (a copy of the newest one, sold now) every `every_s` seconds,
    committed on its own connection. Each is a write the answer cache must see, so each empties it."""
    pushed = [0]
    stop = threading.Event()

    def feed() -> None:
        try:
            with schema_context(SCHEMA):
                while not stop.wait(every_s):
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, quantity, amount,"
                            " transactions, source, slot_code, payment_method, ingested_at)"
                            " SELECT 'bench-feed-' || gen_random_uuid(), now(), device_id, product_id, quantity, amount,"
                            " transactions, source, slot_code, payment_method, now()"
                            " FROM fleet_sale ORDER BY sold_at DESC LIMIT 1"
                        )
                    pushed[0] += 1
        finally:
            connection.close()

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    try:
        yield pushed
    finally:
        stop.set()
        thread.join()


def _warm(port: int, host: str, viewer: Viewer) -> None:
    api = Client(port, host, {"Authorization": f"Token {viewer.token}"})
    page = Client(port, host, {"Cookie": f"{settings.SESSION_COOKIE_NAME}={viewer.session}"})
    for _ in range(3):
        for path in READS:
            status, body = api.get(path)
            assert status == 200, (path, status, body[:300])
        status, body = page.get(PAGE)
        assert status == 200, (PAGE, status, body[:300])


def run() -> None:
    from analytics.rollups.services import rollup_hourly
    from bench.bench_rollups import CHAINS, ensure_bench_chain

    chain = ensure_bench_chain(SCHEMA, *CHAINS[SCHEMA])
    with schema_context(SCHEMA):
        rollup_hourly()
    host = chain.domains.get(is_primary=True).domain
    viewers = _viewers(chain, max(VIEWERS, SATURATION_CLIENTS))
    port = _free_port()
    log = ROOT / "var" / "bench-load-web.log"
    server = start_server(port, log, CVD_THROTTLE_ADDRESS="1000000/minute")
    try:
        from cvd import gunicorn_config

        print(f"gunicorn: {gunicorn_config.workers} workers x {gunicorn_config.threads} threads "
              f"({gunicorn_config.available_cpus()} CPUs), CONN_MAX_AGE {settings.DATABASES['default']['CONN_MAX_AGE']} s; "
              f"chain {SCHEMA}; access log in {log.relative_to(ROOT)}")
        _warm(port, host, viewers[0])
        # Every worker process and thread warm too (connections made, code paths run once): the clients' own
        # keep-alive connections land on all of them, which the single warm-up connection above does not.
        _saturation(port, host, viewers, requests=SATURATION_CLIENTS * 10)
        rate, saturated = _saturation(port, host, viewers)
        print(f"saturation: {SATURATION_CLIENTS} clients back to back, {len(saturated.latencies_ms)} warm reads "
              f"(dashboard / asset-sales alternately): {rate:.0f} req/s (goal >= {SATURATION_GOAL}); "
              f"{_summary(saturated.latencies_ms)}; errors {sum(saturated.errors.values())} {saturated.errors or ''}")
        # The same with the dashboard alone: what the serving stack does when the answer is small (7 KB; the
        # default asset-sales answer lists every device, 1.4 MB at 2,000 devices).
        rate, saturated = _saturation(port, host, viewers, READS[:1])
        print(f"saturation, dashboard alone: {rate:.0f} req/s; {_summary(saturated.latencies_ms)}; "
              f"errors {sum(saturated.errors.values())} {saturated.errors or ''}")
        # What a chain whose machines report as they sell gets: every sale is a write, so every answer after it
        # is computed again (from the buckets and the live delta); the cache helps only between sales.
        with _sales_arriving(FEED_EVERY_S) as pushed:
            rate, saturated = _saturation(port, host, viewers)
        print(f"saturation while a sale arrives every {FEED_EVERY_S:g} s ({pushed[0]} sales): {rate:.0f} req/s; "
              f"{_summary(saturated.latencies_ms)}; errors {sum(saturated.errors.values())} {saturated.errors or ''}")
        took, viewed = _viewing(port, host, viewers)
        p95 = statistics.quantiles(viewed.latencies_ms, n=100, method="inclusive")[94]
        print(f"{VIEWERS} viewers, every {VIEWER_PAUSE_S[0]:g}–{VIEWER_PAUSE_S[1]:g} s (dashboard, asset-sales, "
              f"{PAGE} page), {len(viewed.latencies_ms)} requests in {took:.0f} s: {_summary(viewed.latencies_ms)} "
              f"(goal p95 <= {P95_GOAL_MS} ms: {'met' if p95 <= P95_GOAL_MS else 'NOT met'}); "
              f"errors {sum(viewed.errors.values())} {viewed.errors or ''}")
    finally:
        stop_server(server)

