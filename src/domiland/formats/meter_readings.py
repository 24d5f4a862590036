"""The meter readings exchange format (spec §6, ``include/xml_schemas/meter_readings.xsd``)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from domiland.formats.xml_stream import Record, RecordFormat, iter_records

METER_READINGS = RecordFormat(name="meter_readings", root="MeterReadings", record="Reading",
                              xsd="meter_readings.xsd", title_ru="Показания ИПУ")


def read(path: Path) -> Iterator[Record]:
    return iter_records(path, METER_READINGS)
