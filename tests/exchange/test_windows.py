"""EXP-4 window planning: consecutive runs tile time, "Run now" and schedules never overlap."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domiland.exchange.windows import EPOCH, Covered, plan_window


def t(hour: int, day: int = 2) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=timezone.utc)


DAY1 = (t(0, 1), t(0, 2))
DAY2 = (t(0, 2), t(0, 3))


@pytest.mark.parametrize("case, kind, interval, covered, expected", [
    ("first scheduled run", "scheduled", DAY2, [], (t(0, 2), t(0, 3), None)),
    ("next scheduled run follows the previous", "scheduled", DAY2,
     [Covered("scheduled", *DAY1, "d", "r1", "f1")], (t(0, 2), t(0, 3), None)),
    ("run now inside the interval clips its start", "scheduled", DAY2,
     [Covered("scheduled", *DAY1, "d", "r1"), Covered("manual", t(0, 2), t(10, 2), "d", "m1")],
     (t(10, 2), t(0, 3), None)),
    ("run now after the interval covers it all", "scheduled", DAY2,
     [Covered("manual", t(0, 1), t(5, 3), "d", "m1")], (t(0, 3), t(0, 3), "уже выгружен")),
    ("a backfill re-creates its interval as asked", "backfill", DAY1,
     [Covered("scheduled", *DAY1, "d", "r1"), Covered("manual", t(0, 1), t(5, 3), "d", "m1")],
     (t(0, 1), t(0, 2), None)),
])
def test_scheduled_and_backfill_windows(case, kind, interval, covered, expected):
    plan = plan_window(kind=kind, interval=interval, now=t(12, 3), covered=covered, dag_id="d", run_id="new")
    assert (plan.start, plan.end, plan.skip_reason and plan.skip_reason[:40]) == (
        expected[0], expected[1], expected[2] and plan.skip_reason[:40]), case
    if expected[2]:
        assert expected[2] in plan.skip_reason


def test_run_now_exports_since_the_last_successful_window():
    now = t(12, 3)
    assert (plan := plan_window(kind="manual", interval=None, now=now, covered=[])).start == EPOCH
    assert plan.end == now
    covered = [Covered("scheduled", *DAY1), Covered("scheduled", *DAY2)]
    plan = plan_window(kind="manual", interval=None, now=now, covered=covered)
    assert (plan.start, plan.end, plan.kind) == (t(0, 3), now, "manual")


def test_rerun_of_a_successful_run_exports_nothing_again():
    covered = [Covered("scheduled", *DAY2, "d", "scheduled__2", "/out/p.xml")]
    plan = plan_window(kind="scheduled", interval=DAY2, now=t(12, 3), covered=covered, dag_id="d",
                       run_id="scheduled__2")
    assert "/out/p.xml" in plan.skip_reason and "backfill" in plan.skip_reason


def test_windows_of_a_day_of_hourly_runs_with_run_nows_tile_exactly():
    """Simulate 24 hourly runs with three "Run now"s in between: the union is gap-free and disjoint."""
    covered: list[Covered] = []
    start = t(0, 2)
    events = []
    for h in range(24):
        events.append(("scheduled", (start + timedelta(hours=h), start + timedelta(hours=h + 1)),
                       start + timedelta(hours=h + 1, minutes=1)))
        if h in (3, 10, 17):
            events.append(("manual", None, start + timedelta(hours=h + 1, minutes=30)))
    for n, (kind, interval, now) in enumerate(events):
        plan = plan_window(kind=kind, interval=interval, now=now, covered=covered, dag_id="d", run_id=f"r{n}")
        if not plan.skip_reason:
            covered.append(Covered(plan.kind, plan.start, plan.end, "d", f"r{n}"))
    spans = sorted((c.start, c.end) for c in covered if c.start != EPOCH)
    assert all(a_end == b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:])), spans
    assert spans[-1][1] == t(0, 3)
