"""PDFs fetch nothing but the project's static files: a loopback HTTP listener records zero requests while
devices, products and locations named like images, stylesheets, @import, redirects and file:// render."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reporting.pdf import render_pdf, static_only_fetcher
from tests.analytics import api_factories as f
from tests.conftest import ChainFixture
from tests.reporting import data
from tests.reporting.support import export, pdf_text


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        _Recorder.seen.append(self.path)
        # Were it ever asked, it would redirect to a file: that must not be followed either.
        self.send_response(302)
        self.send_header("Location", "file:///etc/passwd")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def _hostile(base: str) -> list[str]:
    return [
        f'<img src="{base}/img">',
        f'<link rel="stylesheet" href="{base}/css">',
        f"<style>@import url({base}/import);</style>",
        f'<link rel="attachment" href="{base}/attach">',
        f'<img src="{base}/redirect">',
        '<img src="file:///etc/passwd">',
        f'<svg><image href="{base}/svg"/></svg>',
    ]


def test_hostile_names_in_reports_fetch_nothing(in_chain_a: ChainFixture, listener: tuple[str, list[str]]) -> None:
    base, seen = listener
    data.seed()
    names = _hostile(base)
    spot = f.location("HOST", name=names[0], region=names[2])
    item = f.product("HX", name=names[1])
    for index, name in enumerate(names):
        machine = f.device(f"H{index}", spot)
        machine.location.name = name
        f.sale(machine, item, f.local("2026-03-28 12:00"), "1.00")
    client = in_chain_a.client("manager")
    for report in ("asset-sales", "product-sales", "locations", "revenue", "sales"):
        status, body, _ = export(client, report, "pdf", data.RANGE)
        assert status == 200 and body.startswith(b"%PDF")
        if report == "product-sales":
            assert 'css">' in pdf_text(body)  # the name shows as text (its narrow column wraps it anywhere)
    assert seen == []
    # In the template the names are escaped text, never markup.
    from reporting.exports import _content, export_pdf_html, export_validate

    spec = export_validate({"report": "product-sales", "format": "pdf", **data.RANGE})
    html, _ = export_pdf_html(spec, in_chain_a.chain, _content(spec, in_chain_a.chain))
    assert f'&lt;link rel=&quot;stylesheet&quot; href=&quot;{base}/css&quot;&gt;' in html
    assert f'href="{base}' not in html


def test_the_renderer_itself_refuses_everything_but_static(listener: tuple[str, list[str]]) -> None:
    """Even markup that was not escaped (a template mistake) cannot make the renderer fetch."""
    base, seen = listener
    html = "<html><body><p>x</p>" + "".join(_hostile(base)) + '<img src="data:image/png;base64,iVBORw0KGgo=">' + "</body></html>"
    pdf = render_pdf(html)
    assert pdf.startswith(b"%PDF")
    assert seen == []
    from io import BytesIO

    from pypdf import PdfReader

    assert PdfReader(BytesIO(pdf)).attachments == {}


def test_the_fetcher_serves_static_files_only() -> None:
    fetcher = static_only_fetcher()
    response = fetcher.fetch("cvd-static:reporting/pdf.css")
    assert b"@page" in response.read()
    for url in ("cvd-static:../cvd/settings/base.py", "cvd-static:/etc/passwd", "file:///etc/passwd",
                "http://127.0.0.1/", "data:text/css,body{}", "cvd-static:reporting/missing.css"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 6


def test_pdf_has_title_kpis_and_a_server_drawn_chart(in_chain_a: ChainFixture) -> None:
    from reporting.exports import _content, export_pdf_html, export_validate

    data.seed()
    spec = export_validate({"report": "asset-sales", "format": "pdf", **data.RANGE})
    html, rows = export_pdf_html(spec, in_chain_a.chain, _content(spec, in_chain_a.chain))
    assert rows == 3
    assert "<h1>Asset sales</h1>" in html
    assert 'data-kpi="total_revenue"' in html
    assert html.count("<svg") == 1 and "<rect" in html and "<script" not in html
    spec = export_validate({"report": "dashboard", "format": "pdf", **data.RANGE})
    html, _ = export_pdf_html(spec, in_chain_a.chain, _content(spec, in_chain_a.chain))
    assert "<polyline" in html  # the daily series is a line
    assert 'data-kpi="revenue"' in html


def test_a_long_list_pages_with_its_header_and_page_numbers(in_chain_a: ChainFixture) -> None:
    """300 products (several pages of the text grid): the header on every page, "n / N" on every page, every
    product's revenue and units in the text, and a long name cut in its column but whole on its own line."""
    from io import BytesIO

    from pypdf import PdfReader

    spot = f.location("GRID", name="Grid")
    machine = f.device("G-1", spot)
    long_name = "A product whose name is much longer than its column in the list, " * 2
    expected: dict[str, tuple[str, str]] = {}
    for index in range(300):
        item = f.product(f"SKU{index:03d}", name=long_name.strip() if index == 7 else f"Item {index}")
        cents = 100 + index * 37  # 1.00, 1.37, … : distinct figures, summed by hand below
        f.sale(machine, item, f.local("2026-03-28 12:00"), f"{cents // 100}.{cents % 100:02d}", quantity=1 + index % 4)
        expected[f"SKU{index:03d}"] = (f"{cents // 100}.{cents % 100:02d}", str(1 + index % 4))
    status, body, _ = export(in_chain_a.client("manager"), "product-sales", "pdf", data.RANGE)
    assert status == 200
    pages = [page.extract_text() for page in PdfReader(BytesIO(body)).pages]
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"{number} / {len(pages)}" in text
        if number > 1:  # the first page's list starts under the title, KPIs and chart; then the header repeats
            assert "revenue" in text.split() and "sku" in text.split()
    lines = [line.split() for line in "\n".join(pages).splitlines()]
    rows = {words[1]: words for words in lines if len(words) > 2 and words[1].startswith("SKU")}
    assert set(rows) == set(expected)
    for sku, (revenue, units) in expected.items():
        assert revenue in rows[sku] and units in rows[sku], sku
    assert rows["SKU007"][2:4] == ["A", "product"] and "…" in " ".join(rows["SKU007"])
    assert f"name: {long_name.strip()}" in " ".join(" ".join(pages).split())
