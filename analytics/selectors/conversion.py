"""The booking funnel: visit → wizard_start → submit → paid, each session counted once per step it reached in order."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.filters import Filters
from analytics.metrics.funnel import FUNNEL_STEPS, funnel_counts
from analytics.periods import Period
from analytics.query import funnel_events


def conversion(*, period: Period, filters: Filters) -> dict[str, Any]:
    """Funnel steps in order with unique sessions, conversion (vs step 1) and drop-off (vs the step before).

    Events are taken by their time in `period`; funnel events carry no location, so the machine
    and venue filters do not narrow them.
    """
    events = pd.DataFrame(funnel_events(period=period, filters=filters), columns=["session_id", "step", "occurred_at"])
    counts = funnel_counts(events)
    steps = [
        {
            "step": row.step,
            "step_number": int(row.step_number),
            "sessions": int(row.sessions),
            "conversion": float(row.conversion),
            "drop_off": float(row.drop_off),
        }
        for row in counts.itertuples(index=False)
    ]
    first, last = steps[0]["sessions"], steps[-1]["sessions"]
    return {
        "start": period.start,
        "end": period.end,
        "steps": steps,
        "sessions": int(events["session_id"].nunique()) if len(events) else 0,
        "overall_conversion": last / first if first else 0.0,
        "step_names": list(FUNNEL_STEPS),
    }
