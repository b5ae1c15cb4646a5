"""Pages benchmark: the server time of every page's data at 10M sales (median, caches cold, goal ≤ 300 ms), and the
time until /dashboard/ is fully rendered in Chromium (network idle, charts drawn) at 10M vs 10k sales (goal ≤ 1.5 s,
ratio ≤ 1.5).

"Caches cold": the analytics cache (Redis) is cleared before every timed request, so each figure is what the first
person to open a page after a rollup job waits for. The chains are bench_analytics' 10M chain and bench_rollups'
`bench_10k`; both get a manager `bench-pages` for the session.
"""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from typing import Any

from django.core.cache import cache
from django.test import Client
from django_tenants.utils import schema_context

REPEATS = 3
DATA_GOAL_MS = 300
RENDER_GOAL_S = 1.5
PAGES = ("/dashboard/", "/assets/", "/products/", "/locations/", "/trends/", "/anomalies/", "/routes/", "/inventory/",
         "/customers/")
USER = "bench-pages"
PASSWORD = secrets.token_urlsafe(16)  # a fresh one per run: the bench user signs in through the form


def _manager(chain: Any) -> None:
    from chains.services import chain_user_create

    chain_user_create(chain=chain, username=USER, email="bench@example.com", role="manager", password=PASSWORD)


def _domain(chain: Any) -> str:
    domain = chain.domains.filter(is_primary=True).first() or chain.domains.first()
    return str(domain.domain)


def _page_data_times(chain: Any) -> dict[str, float]:
    from django.contrib.auth import get_user_model

    client = Client(HTTP_HOST=_domain(chain))
    with schema_context(chain.schema_name):
        client.force_login(get_user_model().objects.get(username=USER))
    out = {}
    for path in PAGES:
        times = []
        for _ in range(REPEATS):
            cache.clear()
            started = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
        out[path] = statistics.median(times) * 1000
    return out


def _render_times(chains: list[Any]) -> dict[str, float]:
    """Median time from navigation to a drawn dashboard (network idle, every chart drawn), caches cold."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from playwright.sync_api import sync_playwright

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    out: dict[str, float] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
            for chain in chains:
                base = f"http://{_domain(chain)}:{port}"
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                page = context.new_page()
                page.goto(base + "/login/")
                page.fill("input[name=username]", USER)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url("**/dashboard/")
                times = []
                for _ in range(REPEATS):
                    cache.clear()
                    started = time.perf_counter()
                    page.goto(base + "/dashboard/", wait_until="networkidle")
                    page.wait_for_selector("html[data-ready=true]", state="attached")
                    page.wait_for_function(
                        "[...document.querySelectorAll('canvas[data-chart]')].every(c => c.dataset.rendered === 'true')")
                    times.append(time.perf_counter() - started)
                out[chain.schema_name] = statistics.median(times)
                context.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def run() -> None:
    import os

    from bench.bench_analytics import _bench_chain, _ensure_rollups
    from bench.bench_rollups import CHAINS, ensure_bench_chain
    from chains.models import Chain

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop shares this thread
    # CVD_BENCH_PAGES_CHAIN=acme measures an existing chain instead of generating the 10M one (a quick look).
    chosen = os.environ.get("CVD_BENCH_PAGES_CHAIN")
    big = Chain.objects.get(schema_name=chosen) if chosen else _bench_chain()
    small = ensure_bench_chain("bench_10k", *CHAINS["bench_10k"])
    for chain in (big, small):
        with schema_context(chain.schema_name):
            _ensure_rollups()
        _manager(chain)
    print(f"  page data, server time (median of {REPEATS}, caches cold), {big.schema_name} beside bench_10k:")
    small_times = _page_data_times(small)
    for path, ms in _page_data_times(big).items():
        print(f"    {path:<14} {ms:8.0f} ms  (10k {small_times[path]:6.0f} ms, ratio {ms / small_times[path]:5.2f})  "
              f"{'ok' if ms <= DATA_GOAL_MS else f'over the {DATA_GOAL_MS} ms goal'}", flush=True)
    rendered = _render_times([small, big])
    ratio = rendered[big.schema_name] / rendered[small.schema_name]
    print(f"  /dashboard/ rendered in Chromium (median of {REPEATS}, caches cold):")
    print(f"    bench_10k {rendered[small.schema_name]:.2f} s, {big.schema_name} {rendered[big.schema_name]:.2f} s, "
          f"ratio {ratio:.2f} (goal ≤ {RENDER_GOAL_S} s, ratio ≤ 1.5)")
