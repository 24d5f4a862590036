"""The accruals exchange format (spec §6, ``include/xml_schemas/accruals.xsd``)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from domiland.formats.xml_stream import Record, RecordFormat, iter_records

ACCRUALS = RecordFormat(name="accruals", root="Accruals", record="Accrual", xsd="accruals.xsd",
                        title_ru="Начисления")


def read(path: Path) -> Iterator[Record]:
    return iter_records(path, ACCRUALS)
