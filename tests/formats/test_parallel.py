"""Parsing in a child process gives exactly what in-process parsing gives, errors and locations included."""
from __future__ import annotations

import pytest

from domiland.formats.parallel import read_records
from domiland.formats.xml_stream import XmlFormatError
from tests.samples import accrual, accruals_xml

READER = "domiland.formats.accruals:read"


@pytest.fixture(params=["in-process", "child"])
def mode(request, monkeypatch):
    monkeypatch.setenv("DOMILAND_PARALLEL_PARSE_MIN_BYTES", "-1" if request.param == "in-process" else "0")
    return request.param


def test_same_records_both_ways(tmp_path, mode):
    path = tmp_path / "a.xml"
    path.write_bytes(accruals_xml(*(accrual(str(1000 + i), name="Вода") for i in range(4500)), encoding="windows-1251"))
    records = list(read_records(READER, path))
    assert len(records) == 4500
    assert records[0] == (3, {"AccountNumber": "1000", "Period": "2026-05", "ServiceCode": "CW", "ServiceName": "Вода",
                              "Amount": "100.50"})
    assert records[-1][0] == 4502


def test_error_after_good_records_keeps_them_and_its_location(tmp_path, mode):
    path = tmp_path / "bad.xml"
    good = [accrual(str(1000 + i)) for i in range(2500)]
    path.write_bytes(accruals_xml(*good, accrual("9", amount="x"), accrual("10")))
    seen = []
    with pytest.raises(XmlFormatError) as err:
        for record in read_records(READER, path):
            seen.append(record)
    assert len(seen) == 2500
    assert (err.value.line, err.value.record_no) == (2503, 2501)
    assert str(err.value).startswith("строка 2503, запись 2501: не соответствует схеме")


def test_consumer_stopping_early_stops_the_child(tmp_path, mode):
    path = tmp_path / "a.xml"
    path.write_bytes(accruals_xml(*(accrual(str(i)) for i in range(20000))))
    records = read_records(READER, path)
    assert next(records)[0] == 3
    records.close()  # e.g. the loader failed: no orphan process, no hang
    import psutil

    assert [p for p in psutil.Process().children() if "domiland.formats.parallel" in " ".join(p.cmdline())] == []
