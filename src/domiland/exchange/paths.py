"""File addresses of a block (IMP-2): comma lists, and the run's date inside them.

A path may contain ``{date}`` (``YYYY-MM-DD``) or ``{date:<strftime codes>}``,
e.g. ``/exports/{date:%Y%m%d}/accruals.xml``. The date is the run's logical
date — the start of its data interval, in the organization's time zone — so a
backfill over past days re-imports the files of those days; a manual run (no
logical date in Airflow 3) uses the current date in that zone.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

_PLACEHOLDER = re.compile(r"\{date(?::(?P<fmt>[^{}]*))?\}")
_STRFTIME_CODE = re.compile(r"%(.)")
_ALLOWED_CODES = set("YmdHMSjyUWaAbBep%")


class PathTemplateError(ValueError):
    """A path's date placeholder is malformed; the message says which and how to write it."""


def split_paths(paths: str) -> list[str]:
    """Comma-separated addresses, blanks dropped, order kept."""
    return [p.strip() for p in paths.split(",") if p.strip()]


def validate_paths(paths: str) -> None:
    """Refuse placeholders the expansion would not understand (checked when a block is saved)."""
    for path in split_paths(paths):
        rest = _PLACEHOLDER.sub("", path)
        if "{" in rest or "}" in rest:
            raise PathTemplateError(f"{path}: write the date as {{date}} or {{date:%Y%m%d}}; other braces are not allowed")
        for m in _PLACEHOLDER.finditer(path):
            for code in _STRFTIME_CODE.findall(m["fmt"] or ""):
                if code not in _ALLOWED_CODES:
                    raise PathTemplateError(f"{path}: %{code} is not a supported date code "
                                            f"(use %Y %m %d %H %M %S %j %y and the like)")


def expand_paths(paths: str, logical_date: datetime | None, tz: str) -> list[str]:
    """The block's addresses for one run, with ``{date…}`` filled in."""
    validate_paths(paths)
    when = (logical_date or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz))
    return [_PLACEHOLDER.sub(lambda m: when.strftime(m["fmt"] or "%Y-%m-%d"), p) for p in split_paths(paths)]
