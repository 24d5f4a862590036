"""IMP-2 file addresses: comma lists and the run's date in them (backfills re-import past days)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domiland.exchange.paths import PathTemplateError, expand_paths, split_paths, validate_paths


def test_comma_list_keeps_order_and_drops_blanks():
    assert split_paths(" /objects/z84/invoices.xml, /objects/p32/invoices.xml ,, ") == [
        "/objects/z84/invoices.xml", "/objects/p32/invoices.xml"]


@pytest.mark.parametrize("template, expected", [
    ("/in/{date}/a.xml", "/in/2026-11-01/a.xml"),
    ("/in/accruals_{date:%Y%m%d}.xml", "/in/accruals_20261101.xml"),
    ("/{date:%Y}/{date:%m}/{date:%d}.xml", "/2026/11/01.xml"),
    ("/plain.xml", "/plain.xml"),
])
def test_logical_date_in_the_organizations_zone(template, expected):
    # 2026-10-31 23:00 UTC is already 1 November in Moscow: the file of 1 November.
    assert expand_paths(template, datetime(2026, 10, 31, 23, 0, tzinfo=timezone.utc), "Europe/Moscow") == [expected]


def test_manual_run_uses_today_in_the_zone():
    today = datetime.now(timezone.utc).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Vladivostok"))
    assert expand_paths("/{date}.xml", None, "Asia/Vladivostok") == [f"/{today:%Y-%m-%d}.xml"]


@pytest.mark.parametrize("bad, message", [
    ("/in/{data}.xml", "other braces"),
    ("/in/{date:%Q}.xml", "%Q is not a supported date code"),
    ("/in/{{ ds }}.xml", "other braces"),
])
def test_bad_placeholders_are_refused_with_a_hint(bad, message):
    with pytest.raises(PathTemplateError, match=message):
        validate_paths(bad)
