"""Browser fixtures: a committed chain with hand-made data, the WSGI app served in a thread, one Chromium per session.

pytest-django's live_server does not route tenant domains, so the app runs in a thread on a free port and the
browser opens the chain's own domain, `pages-<hex>.localhost` (Chromium resolves *.localhost to loopback).
Responses get a strict Content-Security-Policy (only 'self'), so an inline script or style on a page shows up as
a console error in the tests, whatever the settings of the day add.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django_tenants.utils import get_tenant_model, schema_context

from chains.services import chain_create, chain_user_create
from tests.pages.world import World, build_world

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ROLES = ("viewer", "manager", "admin")


@contextmanager
def async_unsafe_allowed() -> Iterator[None]:
    """Playwright's sync API keeps an event loop on this thread, while the tests' ORM calls stay synchronous.

    Allowed only while the browser runs (its module): a leftover variable would leak into other tests' subprocesses.
    """
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def with_csp(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if not any(name.lower() == "content-security-policy" for name, _ in headers):
                headers = [*headers, ("Content-Security-Policy", CSP)]
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    base: str  # http://pages-xxxx.localhost:PORT
    schema: str
    world: World
    time_zone: str
    blocker: Any
    hosts: set[str] = field(default_factory=set)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="session")
def site(django_db_setup: None, django_db_blocker: Any) -> Iterator[Site]:
    schema = f"pages_{uuid.uuid4().hex[:8]}"
    domain = f"{schema.replace('_', '-')}.localhost"
    with django_db_blocker.unblock(), schema_context("public"):
        chain = chain_create(schema=schema, name="Pages Test Chain", domain=domain, time_zone="Europe/Stockholm",
                             currency="SEK")
        for role in ROLES:
            chain_user_create(chain=chain, username=f"{schema}-{role}", email=f"{role}@{domain}", role=role, password="pw")
        with schema_context(schema):
            world = build_world(chain.time_zone)
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(with_csp(StaticFilesHandler(get_wsgi_application())))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(base=f"http://{domain}:{server.server_address[1]}", schema=schema, world=world,
                   time_zone=chain.time_zone, blocker=django_db_blocker)
    finally:
        server.shutdown()
        server.server_close()
        with django_db_blocker.unblock(), schema_context("public"):
            made = get_tenant_model().objects.get(schema_name=schema)
            made.domains.all().delete()
            made.delete(force_drop=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests' module; stopped after it, so the event loop leaves with it."""
    from playwright.sync_api import sync_playwright

    with async_unsafe_allowed(), sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Visit:
    """One browser context: what it requested, what the console said."""

    page: Any
    context: Any
    hosts: set[str] = field(default_factory=set)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def storage_states(site: Site, browser: Any) -> dict[str, Any]:
    """Sign in once per role through the form, and keep the session for the tests."""
    states = {}
    with site.blocker.unblock():
        states.update(_sign_in_all(site, browser))
    return states


def _sign_in_all(site: Site, browser: Any) -> dict[str, Any]:
    states = {}
    for role in ROLES:
        context = browser.new_context()
        page = context.new_page()
        page.goto(site.url("/login/"))
        page.fill("input[name=username]", f"{site.schema}-{role}")
        page.fill("input[name=password]", "pw")
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard/")
        states[role] = context.storage_state()
        context.close()
    return states


@pytest.fixture
def visit(site: Site, browser: Any, storage_states: dict[str, Any]) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_as(role: str | None, *, width: int = 1440, height: int = 900, clock: bool = False) -> Visit:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      storage_state=storage_states[role] if role else None)
        page = context.new_page()
        seen = Visit(page=page, context=context)
        local = urlsplit(site.base).hostname

        def route(route: Any) -> None:
            host = urlsplit(route.request.url).hostname or ""
            seen.hosts.add(host)
            if host not in (local, "127.0.0.1", "localhost"):
                seen.outside.append(route.request.url)
                route.abort()
                return
            route.continue_()

        context.route("**/*", route)
        page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: seen.errors.append(str(error)))
        page.on("request", lambda request: seen.requests.append(request))

        def dialog(d: Any) -> None:
            seen.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        if clock:
            page.clock.install()
        opened.append(seen)
        return seen

    # The app serves the browser from another thread (its own connection): the database is open during the test.
    with site.blocker.unblock():
        yield open_as
        for seen in opened:
            seen.close()
