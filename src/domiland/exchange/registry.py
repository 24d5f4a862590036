"""Which reader and loader serve each import data type.

A new data type is a format (a reader of records) plus a loader, registered
here by dotted path — nothing else in the pipeline changes. Paths are imported
lazily so that parsing DAGs does not load every format.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from importlib import import_module
from pathlib import Path
from typing import Any

from domiland.db.models import DataType, Method
from domiland.loaders.base import Loader
from domiland.loaders.bulk import BulkConnection

Reader = Callable[[Path], Iterator[tuple[int, dict[str, Any]]]]
"""Yields (source line, fields) of each record of a local file; raises ``XmlFormatError`` at the first problem."""


@dataclass(frozen=True)
class ImportType:
    data_type: DataType
    method: Method
    """XML: files on the organization's FTP server; URL: feeds fetched over HTTP(S)."""
    reader_path: str
    loader_path: str

    def read(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        """The file's records; large files are parsed in a second process (``formats.parallel``)."""
        from domiland.formats.parallel import read_records

        return read_records(self.reader_path, path)

    @cached_property
    def loader(self) -> Callable[[BulkConnection, int], Loader]:
        return _resolve(self.loader_path)


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


IMPORT_TYPES: dict[DataType, ImportType] = {t.data_type: t for t in (
    ImportType(DataType.ACCRUALS, Method.XML, "domiland.formats.accruals:read", "domiland.loaders.accruals:AccrualsLoader"),
    ImportType(DataType.PAYMENTS, Method.XML, "domiland.formats.payments:read", "domiland.loaders.payments:PaymentsLoader"),
    ImportType(DataType.METER_READINGS, Method.XML, "domiland.formats.meter_readings:read",
               "domiland.loaders.meter_readings:MeterReadingsLoader"),
    ImportType(DataType.BUILDINGS, Method.XML, "domiland.formats.buildings:read",
               "domiland.loaders.buildings:BuildingsLoader"),
    ImportType(DataType.CLIENTS, Method.XML, "domiland.formats.clients:read", "domiland.loaders.clients:ClientsLoader"),
    ImportType(DataType.NEWS, Method.URL, "domiland.formats.news:read", "domiland.loaders.news:NewsLoader"),
    ImportType(DataType.OFFERS, Method.URL, "domiland.formats.offers:read", "domiland.loaders.offers:OffersLoader"),
)}
