"""The pages over HTTP (Django's test client): gating, sign-in per chain, 400s, escaping, export controls, figures."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import ChainFixture
from tests.pages.world import HOSTILE, World, build_world

PAGES = ["/dashboard/", "/assets/", "/assets/VM-1/", "/products/", "/products/COLA/", "/locations/", "/locations/N-1/",
         "/trends/", "/anomalies/", "/routes/", "/inventory/", "/venues/", "/venues/C-1/", "/customers/", "/alerts/",
         "/reports/"]


class Hooks(HTMLParser):
    """Collects data-kpi, data-table and data-export elements of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.kpis: dict[str, str] = {}
        self.tables: list[str] = []
        self.exports: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-kpi" in found:  # the first of a name: the page's own report comes first
            self.kpis.setdefault(found["data-kpi"] or "", found.get("data-value") or "")
        if tag == "table" and "data-table" in found:
            self.tables.append(found["data-table"] or "")
        if "data-export" in found:
            self.exports.append(found["data-export"] or "")


def hooks(html: str) -> Hooks:
    parser = Hooks()
    parser.feed(html)
    return parser


@pytest.fixture
def world(chain_a: ChainFixture) -> World:
    with schema_context(chain_a.schema):
        return build_world(chain_a.chain.time_zone)


def signed_in(chain: ChainFixture, role: str) -> Client:
    client = Client(HTTP_HOST=chain.domain)
    response = client.post("/login/", {"username": f"{chain.schema}-{role}", "password": "pw"})
    assert response.status_code == 302, response.content[:500]
    return client


def test_root_and_anonymous_redirect_to_sign_in(chain_a: ChainFixture) -> None:
    client = Client(HTTP_HOST=chain_a.domain)
    assert client.get("/")["Location"] == "/login/"
    response = client.get("/assets/?start=2026-01-01&end=2026-01-31")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/assets/%3Fstart%3D2026-01-01%26end%3D2026-01-31"
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content and b'name="password"' in page.content
    assert b"csrfmiddlewaretoken" in page.content


def test_every_role_signs_in_and_lands_on_the_dashboard(chain_a: ChainFixture) -> None:
    for role in ("viewer", "manager", "admin"):
        client = Client(HTTP_HOST=chain_a.domain)
        response = client.post("/login/", {"username": f"{chain_a.schema}-{role}", "password": "pw"})
        assert response.status_code == 302 and response["Location"] == "/dashboard/"
        assert client.get("/")["Location"] == "/dashboard/"
        assert client.get("/dashboard/").status_code == 200
        # sign-out is a POST
        assert client.post("/logout/").status_code == 302
        assert client.get("/dashboard/").status_code == 302
    with schema_context(chain_a.schema):
        assert not get_user_model().objects.get(username=f"{chain_a.schema}-viewer").is_staff


def test_a_user_of_one_chain_cannot_sign_in_on_another_chains_domain(chain_a: ChainFixture, chain_b: ChainFixture) -> None:
    client = Client(HTTP_HOST=chain_a.domain)
    response = client.post("/login/", {"username": f"{chain_b.schema}-manager", "password": "pw"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert client.get("/dashboard/").status_code == 302
    # and the session cookie of chain A opens nothing on chain B
    a = signed_in(chain_a, "viewer")
    cookie = a.cookies["sessionid"].value
    b = Client(HTTP_HOST=chain_b.domain)
    b.cookies["sessionid"] = cookie
    assert b.get("/dashboard/").status_code == 302


def test_signed_in_without_the_read_capability_is_403(chain_a: ChainFixture) -> None:
    with schema_context(chain_a.schema):
        user = get_user_model().objects.create_user("nobody", "nobody@example.com", "pw")
        assert not user.has_perm("analytics.read")
    client = Client(HTTP_HOST=chain_a.domain)
    assert client.post("/login/", {"username": "nobody", "password": "pw"}).status_code == 302
    for path in ("/dashboard/", "/assets/", "/venues/"):
        assert client.get(path).status_code == 403


def test_every_page_renders_for_a_viewer_with_the_hooks(chain_a: ChainFixture, world: World) -> None:
    client = signed_in(chain_a, "viewer")
    for path in PAGES:
        response = client.get(path, {"start": world.start.isoformat(), "end": world.end.isoformat()})
        assert response.status_code == 200, (path, response.content[:300])
        html = response.content.decode()
        assert 'name="start"' in html and 'name="location"' in html, path  # the one filter bar
        assert "Test A" in html and "SEK" in html and "Europe/Stockholm" in html, path
        assert "data-export" not in html, path
        if path not in ("/alerts/", "/reports/"):
            found = hooks(html)
            assert found.tables or found.kpis, path


def test_bad_parameters_are_a_400_naming_the_field(chain_a: ChainFixture) -> None:
    client = signed_in(chain_a, "viewer")
    response = client.get("/assets/", {"start": "2026-13-01"})
    assert response.status_code == 400
    assert b'data-field="start"' in response.content
    response = client.get("/trends/", {"metric": "nonsense"})
    assert response.status_code == 400 and b'data-field="metric"' in response.content
    response = client.get("/dashboard/", {"start": "2026-03-10", "end": "2026-03-01"})
    assert response.status_code == 400 and b'data-field="end"' in response.content


def test_unknown_things_are_404(chain_a: ChainFixture, world: World) -> None:
    client = signed_in(chain_a, "viewer")
    for path in ("/assets/NOPE/", "/products/NOPE/", "/locations/NOPE/", "/venues/NOPE/"):
        assert client.get(path).status_code == 404, path


def test_hostile_names_are_text(chain_a: ChainFixture, world: World) -> None:
    client = signed_in(chain_a, "viewer")
    for path in ("/assets/", "/dashboard/", "/products/", "/locations/", "/inventory/"):
        html = client.get(path, {"start": world.start.isoformat(), "end": world.end.isoformat()}).content.decode()
        assert HOSTILE not in html, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, path


def test_export_controls_only_for_the_export_capability(chain_a: ChainFixture, world: World) -> None:
    viewer = hooks(signed_in(chain_a, "viewer").get("/assets/").content.decode())
    manager = hooks(signed_in(chain_a, "manager").get("/assets/").content.decode())
    assert viewer.exports == []
    assert manager.exports == ["csv", "xlsx", "pdf"]


def test_kpi_values_are_the_apis_and_the_hand_sums(chain_a: ChainFixture, world: World) -> None:
    client = signed_in(chain_a, "viewer")
    params = {"start": world.start.isoformat(), "end": world.end.isoformat()}
    page = hooks(client.get("/dashboard/", params).content.decode())
    api: dict[str, Any] = client.get("/api/analytics/dashboard/", params).json()
    for field, value in api["kpis"].items():
        if field == "revenue_run_rate":  # counts today's elapsed time: it moves between the two requests
            assert abs(float(page.kpis[field]) - float(value)) <= 0.01 * float(value), field
        elif field in page.kpis:
            assert page.kpis[field] == ("" if value is None else str(value)), field
    fleet = hooks(client.get("/assets/", params).content.decode())
    assert fleet.kpis["total_revenue"] == str(world.revenue) == "1264.75"
    assert fleet.kpis["total_units"] == str(world.units)
    device = hooks(client.get("/assets/VM-1/", params).content.decode())
    assert device.kpis["total_revenue"] == "1250.25"


def test_money_is_formatted_for_the_chain(chain_a: ChainFixture, world: World) -> None:
    client = signed_in(chain_a, "viewer")
    html = client.get("/assets/", {"start": world.start.isoformat(), "end": world.end.isoformat()}).content.decode()
    assert re.search(r'data-kpi="total_revenue" data-value="1264.75" data-kind="money">1,264.75 kr<', html)


def test_password_reset_mails_a_link_on_the_chains_domain(chain_a: ChainFixture) -> None:
    client = Client(HTTP_HOST=chain_a.domain)
    response = client.post("/password/reset/", {"email": "viewer@chain-a.localhost"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    link = re.search(r"http://chain-a\.localhost/reset/[^/\s]+/[^/\s]+/", message.body)
    assert link, message.body
    follow = client.get(link.group(0).replace("http://chain-a.localhost", ""), follow=True)
    assert b"new password" in follow.content.lower()
    form = follow.redirect_chain[-1][0]
    done = client.post(form, {"new_password1": "a-much-better-secret-42", "new_password2": "a-much-better-secret-42"})
    assert done.status_code == 302
    assert Client(HTTP_HOST=chain_a.domain).post(
        "/login/", {"username": f"{chain_a.schema}-viewer", "password": "a-much-better-secret-42"}).status_code == 302
    with schema_context(chain_a.schema):
        user = get_user_model().objects.get(username=f"{chain_a.schema}-viewer")
        user.set_password("pw")
        user.save()


def test_password_change_needs_the_old_password_and_csrf(chain_a: ChainFixture) -> None:
    client = Client(HTTP_HOST=chain_a.domain, enforce_csrf_checks=True)
    page = client.get("/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()  # type: ignore[union-attr]
    assert client.post("/login/", {"username": f"{chain_a.schema}-manager", "password": "pw"}).status_code == 403
    assert client.post("/login/", {"username": f"{chain_a.schema}-manager", "password": "pw",
                                   "csrfmiddlewaretoken": token}).status_code == 302
    change = client.get("/password/change/")
    assert change.status_code == 200 and b"csrfmiddlewaretoken" in change.content
