"""Which records an export run covers (EXP-4): windows by the records' creation time in the hub.

* A scheduled run exports its data interval — minus any part a "Run now" already exported,
  so the two never overlap.
* "Run now" exports everything since the end of the last successful window, up to now.
* A backfill exports exactly its intervals: it is the explicit way to re-create past files.
* A run cleared and re-run after it succeeded exports nothing again (its file exists);
  one that failed exports its window on the re-run.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Covered:
    """A window a successful export of this block covered."""

    kind: str
    start: datetime
    end: datetime
    dag_id: str | None = None
    run_id: str | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class Plan:
    start: datetime
    end: datetime
    kind: str
    skip_reason: str | None = None
    """Set when there is nothing to export; the run then succeeds without a file."""


def plan_window(*, kind: str, interval: tuple[datetime, datetime] | None, now: datetime,
                covered: Sequence[Covered], dag_id: str | None = None, run_id: str | None = None) -> Plan:
    """Choose the window of one export run from how it was started and what is already exported."""
    same = next((c for c in covered if run_id and c.dag_id == dag_id and c.run_id == run_id), None)
    if same is not None:
        return Plan(same.start, same.end, kind,
                    skip_reason=f"этот запуск уже выгрузил свой период в файл {same.file_name}; "
                                "чтобы создать файл заново, запустите backfill за этот период")
    if kind == "manual" or interval is None:
        start = max((c.end for c in covered), default=EPOCH)
        return Plan(start, max(now, start), "manual")
    start, end = interval
    if kind == "backfill":
        return Plan(start, end, kind)
    manual_ends = [c.end for c in covered if c.kind == "manual" and start < c.end]
    if manual_ends:
        start = min(max(manual_ends), end)
        if start >= end:
            return Plan(start, end, kind, skip_reason="период уже выгружен запуском «Запустить сейчас»")
    return Plan(start, end, kind)
