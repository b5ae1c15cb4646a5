"""PDF rendering with WeasyPrint behind a URL fetcher that serves the project's own static files and nothing else.

Tenant text reaches the template only through Django's auto-escaping, and even markup that slipped
through could not make the renderer fetch anything: no network, no file://, no data:, no redirects.
The project's static files are addressed as `cvd-static:<path>` (e.g. `cvd-static:reporting/pdf.css`).
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders

STATIC_SCHEME = "cvd-static:"
# WeasyPrint narrates every rendering step at INFO; only its warnings matter here.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class FetchRefused(ValueError):
    pass


def _static_fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
        """Never opens a connection or a file outside the static directories; everything else is refused."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.startswith(STATIC_SCHEME):
                self.refused.append(url)
                raise FetchRefused(f"refused to fetch {url[:80]!r}: PDFs load only the project's static files")
            relative = url.removeprefix(STATIC_SCHEME).split("?", 1)[0].split("#", 1)[0]
            parts = Path(relative).parts
            if not relative or relative.startswith("/") or ".." in parts:
                self.refused.append(url)
                raise FetchRefused(f"refused static path {relative[:80]!r}")
            found = finders.find(relative)
            if not found or isinstance(found, list):
                self.refused.append(url)
                raise FetchRefused(f"no static file {relative[:80]!r}")
            mime, _ = mimetypes.guess_type(str(found))
            body = Path(found).read_bytes()
            return URLFetcherResponse(url, body, {"Content-Type": mime or "application/octet-stream"})

        def open(self, url: Any, data: Any = None, timeout: Any = None) -> Any:
            return self.fetch(url if isinstance(url, str) else url.full_url)

    return StaticOnlyFetcher


def static_only_fetcher() -> Any:
    return _static_fetcher_class()()


def render_pdf(html: str) -> bytes:
    """The PDF of `html` (a rendered project template); only `cvd-static:` URLs are fetched."""
    from weasyprint import HTML

    fetcher = static_only_fetcher()
    document = HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=fetcher).render()
    # <link rel="attachment"> would embed whatever it names: a PDF export embeds nothing.
    document.metadata.attachments.clear()
    pdf: bytes = document.write_pdf()
    return pdf
