"""The payments exchange format (spec §6, ``include/xml_schemas/payments.xsd``)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from domiland.formats.xml_stream import Record, RecordFormat, iter_records

PAYMENTS = RecordFormat(name="payments", root="Payments", record="Payment", xsd="payments.xsd",
                        title_ru="Платежи")


def read(path: Path) -> Iterator[Record]:
    return iter_records(path, PAYMENTS)
