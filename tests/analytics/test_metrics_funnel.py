"""Funnel counts: in-order chains per session, checked by hand and against a per-session loop."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.metrics.funnel import FUNNEL_COLUMNS, FUNNEL_STEPS, funnel_counts, session_funnel_depth

BASE = dt.datetime(2024, 5, 1, 10, 0)


def _at(minutes: int) -> dt.datetime:
    return BASE + dt.timedelta(minutes=minutes)


EVENTS = pd.DataFrame(
    [
        # s1: complete, rows out of order in the frame but timestamps in order -> 4 steps.
        ("s1", "paid", _at(3)),
        ("s1", "visit", _at(0)),
        ("s1", "submit", _at(2)),
        ("s1", "wizard_start", _at(1)),
        # s2: visit and wizard_start at the same instant (counts as in order), paid without submit -> 2.
        ("s2", "visit", _at(0)),
        ("s2", "wizard_start", _at(0)),
        ("s2", "paid", _at(5)),
        # s3: wizard_start BEFORE the visit and never again -> only the visit counts -> 1.
        ("s3", "wizard_start", _at(-60)),
        ("s3", "visit", _at(0)),
        # s4: only an unknown step -> not a funnel session at all.
        ("s4", "newsletter_signup", _at(0)),
        # s5: repeats and out-of-order noise; the earliest valid chain is
        # visit 0 -> wizard_start 30 -> submit 40 -> paid 50 (submit 20 precedes any wizard_start,
        # paid 35 precedes the valid submit) -> 4.
        ("s5", "visit", _at(0)),
        ("s5", "visit", _at(60)),
        ("s5", "submit", _at(20)),
        ("s5", "wizard_start", _at(30)),
        ("s5", "wizard_start", _at(31)),
        ("s5", "paid", _at(35)),
        ("s5", "submit", _at(40)),
        ("s5", "paid", _at(50)),
        # s6: no visit at all -> depth 0, counted nowhere.
        ("s6", "wizard_start", _at(0)),
        ("s6", "submit", _at(1)),
    ],
    columns=["session_id", "step", "occurred_at"],
)


def test_session_depths() -> None:
    depths = session_funnel_depth(EVENTS)
    assert dict(zip(depths["session_id"], depths["steps_completed"], strict=True)) == {
        "s1": 4,
        "s2": 2,
        "s3": 1,
        "s5": 4,
        "s6": 0,
    }


def test_funnel_counts_conversion_and_drop_off() -> None:
    result = funnel_counts(EVENTS)
    assert list(result.columns) == FUNNEL_COLUMNS
    assert result["step"].tolist() == list(FUNNEL_STEPS)
    # visit: s1 s2 s3 s5 = 4; wizard_start: s1 s2 s5 = 3; submit: s1 s5 = 2; paid: s1 s5 = 2.
    assert result["sessions"].tolist() == [4, 3, 2, 2]
    # conversion = count / 4; drop_off = 1 - count_k / count_(k-1): 0, 1 - 3/4, 1 - 2/3, 1 - 2/2.
    assert result["conversion"].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.5])
    assert result["drop_off"].tolist() == pytest.approx([0.0, 0.25, 1 / 3, 0.0])


def test_funnel_with_string_and_timezone_aware_timestamps() -> None:
    # 10:00+02:00 is 08:00 UTC, so the wizard_start at 09:00 UTC comes after the visit.
    events = pd.DataFrame(
        {
            "session_id": [1, 1],
            "step": ["visit", "wizard_start"],
            "occurred_at": ["2024-05-01T10:00:00+02:00", "2024-05-01T09:00:00+00:00"],
        }
    )
    assert funnel_counts(events)["sessions"].tolist() == [1, 1, 0, 0]


def test_empty_funnel_is_zero_everywhere() -> None:
    result = funnel_counts(EVENTS.iloc[:0])
    assert result["sessions"].tolist() == [0, 0, 0, 0]
    assert result["conversion"].tolist() == [0.0] * 4
    assert result["drop_off"].tolist() == [0.0] * 4
    assert session_funnel_depth(EVENTS.iloc[:0]).empty


def _reference_depth(events: list[tuple[int, str, int]]) -> dict[int, int]:
    """Per session: walk its events in time order (ties: earlier funnel step first) and advance a
    state machine whenever the next expected step appears — the plain-Python reading of the rule."""
    step_index = {step: index for index, step in enumerate(FUNNEL_STEPS)}
    depths: dict[int, int] = {}
    for session_id in {session for session, _, _ in events}:
        own = sorted(
            ((minute, step_index[step]) for session, step, minute in events if session == session_id),
        )
        reached = 0
        for _, index in own:
            if reached < len(FUNNEL_STEPS) and index == reached:
                reached += 1
        depths[session_id] = reached
    return depths


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=5),  # session
            st.sampled_from(FUNNEL_STEPS),
            st.integers(min_value=0, max_value=6),  # minute: small range -> many equal timestamps
        ),
        max_size=40,
    )
)
def test_funnel_matches_per_session_loop(events: list[tuple[int, str, int]]) -> None:
    frame = pd.DataFrame(
        [(session, step, _at(minute)) for session, step, minute in events],
        columns=["session_id", "step", "occurred_at"],
    )
    expected_depths = _reference_depth(events)
    depths = session_funnel_depth(frame)
    assert dict(zip(depths["session_id"], depths["steps_completed"], strict=True)) == expected_depths
    expected_counts = [
        sum(1 for depth in expected_depths.values() if depth >= step_number)
        for step_number in range(1, len(FUNNEL_STEPS) + 1)
    ]
    assert funnel_counts(frame)["sessions"].tolist() == expected_counts
