"""The report endpoints' JSON (orjson, analytics.apis._base.PresentedJSONRenderer) is byte for byte what DRF's
own renderer writes for the same answer: on every report, with names that need escaping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.renderers import JSONRenderer

from analytics.apis._base import PresentedJSONRenderer, present
from analytics.reports import REPORTS, get_report
from tests.analytics.api_factories import customer, device, location, product, sale
from tests.conftest import ChainFixture

NAMES = ('Kiosk "Nord" \\ <script>alert(1)</script>', "Line\u2028sep\u2029para", "Åre – 雪 🍫", "tab\tnew\nline\x01")


@pytest.fixture
def answers(in_chain_a: ChainFixture) -> dict[str, dict[str, object]]:
    from django.utils import timezone

    now = timezone.now()
    for i, name in enumerate(NAMES):
        machine = device(f"R-{i}", location(f"R{i}", name=name))
        item = product(f"SKU-{i}", name=name)
        for day in range(5):
            sale(machine, item, now - timedelta(days=day, hours=i), f"{i + 1}.{day}5", quantity=day + 1, buyer=customer(f"c{i}{day}"))
    out = {}
    for name in REPORTS:
        params, values = get_report(name).validate({})
        out[name] = present(get_report(name).page(params, values))
    return out


def test_the_report_json_is_what_drf_writes(answers: dict[str, dict[str, object]]) -> None:
    for name, answer in answers.items():
        ours, theirs = PresentedJSONRenderer().render(answer), JSONRenderer().render(answer)
        assert ours == theirs, name
    assert b"\\u2028" in PresentedJSONRenderer().render({"name": NAMES[1]})
    # The answers hold the names (the comparison above is over real rows, not empty lists).
    located = PresentedJSONRenderer().render(answers["locations"])
    assert b'Kiosk \\"Nord\\" \\\\ <script>' in located and "🍫".encode() in located and b"line\\u0001" in located


def test_what_orjson_cannot_write_takes_drfs_path() -> None:
    data = {"big": 2**70, 1: "int key"}
    assert PresentedJSONRenderer().render(data) == JSONRenderer().render(data)
