"""Import use case: fetch a block's files, stream-validate them, bulk-load them, report (IMP-2..8).

Called by the Airflow operator (scheduled runs, "Run now" and backfills alike)
and directly by tests and the CLI; it knows nothing of Airflow.
"""
from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from domiland.config import get_config
from domiland.db.engine import get_engine
from domiland.db.models import DataType
from domiland.exchange.blocks import BlockSpec, get_block_spec, get_ftp_settings
from domiland.exchange.report import FileReport, ImportReport
from domiland.formats.accruals import ACCRUALS
from domiland.formats.xml_stream import RecordFormat, XmlFormatError, iter_records
from domiland.loaders.accruals import AccrualsLoader
from domiland.loaders.base import Loader, NumberedRecord
from domiland.loaders.bulk import BulkConnection
from domiland.secrets import SecretKeyError
from domiland.transports.ftp import DomilandFTPHook, FtpError, FtpSettings

log = logging.getLogger(__name__)

BATCH_SIZE = 5000


@dataclass(frozen=True)
class XmlType:
    """A data type the XML import can read: its format and the loader of its records."""

    format: RecordFormat
    loader: Callable[[BulkConnection, int], Loader]


XML_TYPES: dict[DataType, XmlType] = {
    DataType.ACCRUALS: XmlType(ACCRUALS, AccrualsLoader),
}


def import_block(block_id: int) -> ImportReport:
    """Run one import block now; never raises for bad input or an unreachable server (see the report)."""
    spec = get_block_spec(block_id)
    report = ImportReport()
    try:
        ftp = get_ftp_settings(spec.organization_id)
    except (LookupError, SecretKeyError) as exc:
        report.fail(str(exc), "settings")
        return report
    return import_from_ftp(spec, ftp, report=report)


def import_from_ftp(spec: BlockSpec, ftp: FtpSettings, *, report: ImportReport | None = None,
                    paths: Iterable[str] | None = None) -> ImportReport:
    """Import each path in order; stop at the first error (IMP-6), delete only cleanly read files (IMP-3)."""
    report = report or ImportReport()
    xml_type = XML_TYPES.get(spec.data_type)
    paths = list(paths if paths is not None else spec.path_list())
    if xml_type is None:
        report.fail(f"Импорт типа {spec.data_type.value} из XML-файлов пока не поддерживается", "settings")
        return report
    if not paths:
        report.fail("Не указан адрес файла (поле «Адрес файла (ов)» пусто)", "settings")
        return report
    cap = get_config().max_file_bytes
    with tempfile.TemporaryDirectory(prefix="domiland-import-") as tmp:
        for path in paths:
            local = Path(tmp) / "current.xml"
            file_report = FileReport(path=path)
            report.files.append(file_report)
            try:
                with DomilandFTPHook(ftp) as hook, local.open("wb") as out:
                    hook.retrieve_to(path, out, max_bytes=cap)
            except FtpError as exc:
                file_report.error = str(exc)
                report.fail(f"{path}: {exc}", "transport")
                return report
            load_file(local, xml_type, spec.organization_id, file_report, report)
            local.unlink()
            if file_report.error:
                return report
            if spec.delete_after_read:
                try:
                    with DomilandFTPHook(ftp) as hook:
                        hook.delete_file(path)
                    file_report.deleted = True
                except FtpError as exc:
                    # The data is in; a file left behind is worth a warning, not a failed run.
                    report.warn(f"{path}: файл импортирован, но не удалён с сервера: {exc}")
    return report


def load_file(local: Path, xml_type: XmlType, organization_id: int, file_report: FileReport,
              report: ImportReport) -> None:
    """Stream one file into the CRM in batches; records before an error stay loaded (IMP-6)."""
    bulk = BulkConnection.open(get_engine())
    loader = xml_type.loader(bulk, organization_id)
    try:
        before = bulk.count(loader.table, organization_id)
        written = 0
        batch: list[NumberedRecord] = []

        def flush() -> None:
            nonlocal written
            if not batch:
                return
            result = loader.load(batch)
            bulk.commit()
            written += result.written
            file_report.skipped += result.skipped
            for warning in result.warnings:
                report.warn(f"{file_report.path}: {warning}")
            batch.clear()

        try:
            for record_no, (line, fields) in enumerate(iter_records(local, xml_type.format), start=1):
                file_report.read = record_no
                batch.append((record_no, line, fields))
                if len(batch) >= BATCH_SIZE:
                    flush()
            flush()
        except XmlFormatError as exc:
            flush()  # what was read before the error is valid and stays
            file_report.error = str(exc)
            report.fail(f"{file_report.path}: {exc}", "data")
        file_report.created = bulk.count(loader.table, organization_id) - before
        file_report.updated = written - file_report.created
        file_report.unchanged = file_report.read - file_report.skipped - written
    finally:
        bulk.close()
