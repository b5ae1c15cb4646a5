"""Booking funnel: how far each session got through the ordered steps, and per-step conversion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.metrics._common import require_columns, safe_ratio

FUNNEL_STEPS: tuple[str, ...] = ("visit", "wizard_start", "submit", "paid")

DEPTH_COLUMNS = ["session_id", "steps_completed"]
FUNNEL_COLUMNS = ["step_number", "step", "sessions", "conversion", "drop_off"]


def session_funnel_depth(events: pd.DataFrame, steps: Sequence[str] = FUNNEL_STEPS) -> pd.DataFrame:
    """How many funnel steps each session completed in order.

    Input: ``session_id``, ``step`` (name), ``occurred_at`` (datetime or parseable string; naive
    values are taken as UTC, aware ones are compared in UTC). Rows with an unknown step or a
    missing value are ignored; row order does not matter.

    A session completed step k when it has events e₁ … e_k for steps 1 … k with
    e₁.occurred_at ≤ e₂.occurred_at ≤ … ≤ e_k.occurred_at (equal timestamps count as in order, since
    the app often records consecutive steps within the same second). The earliest valid chain is
    taken greedily — earliest step-1 event, then the earliest step-2 event at or after it, and so
    on — which is optimal: an earlier event never leaves less room for the next step. A session
    with a ``paid`` but no ``submit`` therefore stops at ``wizard_start`` (if that came after a
    visit), and an event before the step it depends on does not count.

    Cost: O(E·K) numpy work for E events and K steps — per step one boolean mask and one
    ``np.minimum.at`` scatter into a per-session array; no merges and no per-event Python loop.

    Output: ``session_id``, ``steps_completed`` (int 0..len(steps)), one row per session with at
    least one recognised event (0 = no valid first step), sorted by session_id.
    """
    require_columns(events, ["session_id", "step", "occurred_at"], "events")
    step_list = list(steps)
    if not step_list:
        raise ValueError("steps must not be empty")
    known = events[["session_id", "step", "occurred_at"]].dropna()
    step_positions = pd.Index(step_list).get_indexer(known["step"])
    known = known[step_positions >= 0]
    step_positions = step_positions[step_positions >= 0]
    if known.empty:
        return pd.DataFrame(columns=DEPTH_COLUMNS)

    session_codes, sessions = pd.factorize(known["session_id"], sort=True)
    # Compare in UTC as integer nanoseconds (tz-aware values would make numpy fall back to objects).
    occurred_ns = (
        pd.to_datetime(known["occurred_at"], utc=True)
        .dt.tz_localize(None)
        .to_numpy(dtype="datetime64[ns]")
        .view(np.int64)
    )
    not_reached = np.iinfo(np.int64).max
    # reached_at[session]: when its earliest valid chain reached the previous step (not_reached
    # when it did not). Before step 1 every session has "reached" the start at -inf.
    reached_at = np.full(len(sessions), np.iinfo(np.int64).min, dtype=np.int64)
    depth = np.zeros(len(sessions), dtype=np.int64)
    for step_position in range(len(step_list)):
        # An event continues the chain when it is this step and not earlier than the previous link;
        # an unreached session's not_reached bound excludes all of its events.
        continues_chain = (step_positions == step_position) & (occurred_ns >= reached_at[session_codes])
        next_reached_at = np.full(len(sessions), not_reached, dtype=np.int64)
        np.minimum.at(next_reached_at, session_codes[continues_chain], occurred_ns[continues_chain])
        reached_at = next_reached_at
        reached = reached_at != not_reached
        if not reached.any():
            break
        depth[reached] = step_position + 1

    return pd.DataFrame(
        {"session_id": np.asarray(sessions), "steps_completed": depth},
        columns=DEPTH_COLUMNS,
    )


def funnel_counts(events: pd.DataFrame, steps: Sequence[str] = FUNNEL_STEPS) -> pd.DataFrame:
    """Sessions reaching each funnel step, with conversion and drop-off.

    Input: as :func:`session_funnel_depth` (``session_id``, ``step``, ``occurred_at``).

    sessions_k = number of sessions whose in-order chain reached step k (each session once per
    step); conversion_k = sessions_k / sessions_1; drop_off_k = 1 - sessions_k / sessions_(k-1),
    with drop_off_1 = 0. Both are 0 when their denominator is 0 (no session reached the earlier
    step, so nobody could drop off).

    Output: one row per step in funnel order: ``step_number`` (1-based int), ``step``,
    ``sessions`` (int), ``conversion``, ``drop_off`` (floats 0-1).
    """
    step_list = list(steps)
    depth = session_funnel_depth(events, step_list)["steps_completed"].to_numpy(dtype=np.int64)
    sessions_at_depth = np.bincount(depth, minlength=len(step_list) + 1)
    # Reaching step k means a depth of at least k: reverse cumulative sum over depths.
    reached = np.cumsum(sessions_at_depth[::-1])[::-1][1:]

    rows = []
    for position, step in enumerate(step_list):
        sessions = int(reached[position])
        previous = int(reached[position - 1]) if position > 0 else sessions
        rows.append(
            {
                "step_number": position + 1,
                "step": step,
                "sessions": sessions,
                "conversion": safe_ratio(sessions, int(reached[0])),
                "drop_off": 1.0 - safe_ratio(sessions, previous) if position > 0 and previous else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=FUNNEL_COLUMNS)
