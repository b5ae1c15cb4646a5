"""PDF benchmark: the board pack's render time at 10M sales beside 10k (goal < 10 s at 10M), split into the
registry reads and WeasyPrint; and the product-sales PDF for 500 products rendered as the former table (one
cell a value) beside the text grid the exports draw now (goal < 5 s).

Uses the chains of bench_rollups (`bench_10m`: 10,000,000 sales; `bench_10k`: 10,000; the same catalog of
2,000 devices and 500 products), made and rolled up here when absent. Times are wall clock and, in brackets,
the process's CPU time: on a shared machine the wall clock also counts the other processes' turns.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from html import escape
from typing import Any

from django.db import connection
from django_tenants.utils import schema_context

ROUNDS = 3
GOAL_PACK_S = 10.0
GOAL_PDF_S = 5.0

# The export template's list before the text grid: a table cell per value, columns from the header row.
_FORMER_CSS = """
@page { size: A4 landscape; margin: 12mm; @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 8pt; color: #222; }
table.data { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.data td { overflow-wrap: anywhere; }
table.data th, table.data td { border-bottom: 0.2mm solid #ddd; padding: 0.8mm 1.5mm; text-align: left; }
table.data thead { display: table-header-group; }
table.data th { background: #f0f0f0; }
"""


def _former_table_html(keys: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(key)}</th>" for key in keys)
    body = "".join("<tr>" + "".join(f"<td>{escape(value)}</td>" for value in row) + "</tr>\n" for row in rows)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{_FORMER_CSS}</style></head><body>"
            f"<table class='data'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>")


def _clocked(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _chains() -> dict[str, Any]:
    from bench.bench_analytics import _ensure_rollups
    from bench.bench_rollups import CHAINS, ensure_bench_chain

    chains = {}
    for schema in ("bench_10m", "bench_10k"):
        sales, days = CHAINS[schema]
        chains[schema] = ensure_bench_chain(schema, sales, days)
        with schema_context(schema):
            _ensure_rollups()
    return chains


def _month(schema: str) -> str:
    """The last whole month of the chain's history."""
    from analytics.query import current_chain

    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT max(sold_at) FROM fleet_sale")
        latest = cursor.fetchone()[0]
        return str((latest.astimezone(current_chain().tz).replace(day=1) - timedelta(days=1)).strftime("%Y-%m"))


def _board_pack(schema: str, month: str) -> dict[str, float]:
    """One board pack: seconds in the registry reads (the context) and in WeasyPrint (wall and CPU)."""
    from django.template.loader import render_to_string

    from analytics.query import current_chain
    from reporting.boardpack import board_pack_context
    from reporting.pdf import render_pdf

    with schema_context(schema):
        chain = current_chain()
        reads_wall, reads_cpu, context = _clocked(lambda: board_pack_context(chain, month))
        html = render_to_string("reporting/board_pack.html", context)
        render_wall, render_cpu, pdf = _clocked(lambda: render_pdf(html))
        with tempfile.TemporaryFile() as target:
            target.write(pdf)
    return {"reads": reads_wall, "reads_cpu": reads_cpu, "render": render_wall, "render_cpu": render_cpu,
            "total": reads_wall + render_wall, "total_cpu": reads_cpu + render_cpu}


def bench_board_pack(month: str) -> None:
    runs: dict[str, list[dict[str, float]]] = {"bench_10m": [], "bench_10k": []}
    for _ in range(ROUNDS):  # alternately, so both see the same load
        for schema in runs:
            runs[schema].append(_board_pack(schema, month))
    medians = {schema: {key: statistics.median(run[key] for run in found) for key in found[0]} for schema, found in runs.items()}
    print(f"board pack {month}, median of {ROUNDS} (wall s [CPU s]):")
    for schema, figures in medians.items():
        print(f"  {schema:10} total {figures['total']:5.2f} [{figures['total_cpu']:4.2f}]  registry reads "
              f"{figures['reads']:5.2f} [{figures['reads_cpu']:4.2f}]  WeasyPrint {figures['render']:5.2f} "
              f"[{figures['render_cpu']:4.2f}]")
    big, small = medians["bench_10m"], medians["bench_10k"]
    print(f"  10M / 10k: total {big['total'] / small['total']:.2f}, registry reads {big['reads'] / small['reads']:.2f}, "
          f"WeasyPrint {big['render'] / small['render']:.2f}; at 10M {big['total']:.2f} s (goal < {GOAL_PACK_S:.0f} s)")


def bench_product_pdf(month: str) -> None:
    """The 500 products of bench_10m for the month: the former cell table beside today's export (same rows)."""
    from analytics.query import current_chain
    from reporting.boardpack import month_range
    from reporting.exports import _content, _pdf_cell, export_pdf_html, export_validate
    from reporting.pdf import render_pdf

    with schema_context("bench_10m"):
        chain = current_chain()
        start, end = month_range(month)
        spec = export_validate({"report": "product-sales", "format": "pdf", "start": start.isoformat(), "end": end.isoformat()})
        compute_wall, _, content = _clocked(lambda: _content(spec, chain))
        table = [list(row) for batch in content.batches for row in batch]
        keys = [column.key for column in content.columns]
        former = _former_table_html(keys, [[_pdf_cell(value) for value in row] for row in table])
        content.batches = iter([table])
        html, products = export_pdf_html(spec, chain, content)
        before_wall, before_cpu, before = _clocked(lambda: render_pdf(former))
        after_runs = [_clocked(lambda: render_pdf(html)) for _ in range(ROUNDS)]
    after_wall = statistics.median(run[0] for run in after_runs)
    after_cpu = statistics.median(run[1] for run in after_runs)
    print(f"product-sales PDF, {products} products × {len(keys)} columns (the report computed in {compute_wall:.2f} s):")
    print(f"  before: a table cell a value     {before_wall:6.2f} s [{before_cpu:5.2f} s CPU], {len(before) / 1024:.0f} KiB")
    print(f"  after:  a monospaced line a row  {after_wall:6.2f} s [{after_cpu:5.2f} s CPU], "
          f"{len(after_runs[0][2]) / 1024:.0f} KiB, median of {ROUNDS} (goal < {GOAL_PDF_S:.0f} s)")
    print(f"  before / after: {before_wall / after_wall:.1f}× wall, {before_cpu / after_cpu:.1f}× CPU")


def run() -> None:
    started = time.perf_counter()
    import weasyprint  # noqa: F401 - a worker imports it once; not part of any render below

    print(f"import weasyprint: {time.perf_counter() - started:.2f} s (once a process)")
    _chains()
    month = _month("bench_10m")
    bench_board_pack(month)
    bench_product_pdf(month)
