"""Export use case (EXP-1..6): one window of records → one XML file on the organization's FTP server.

Records are streamed from the database in batches into a local temporary file
(never the whole export in memory), uploaded under a temporary name and renamed
when complete, so a partner never sees a half-written file; an existing file is
never overwritten.
"""
from __future__ import annotations

import logging
import os
import posixpath
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from domiland.db.engine import get_engine, session_scope
from domiland.db.models import DataType, ExportRun
from domiland.exchange.blocks import BlockSpec, get_export_spec, get_ftp_settings
from domiland.exchange.report import ExportReport
from domiland.exchange.windows import Covered, Plan, plan_window
from domiland.formats.xml_stream import RecordFormat
from domiland.formats.xml_write import RecordWriter
from domiland.loaders.bulk import BulkConnection
from domiland.secrets import SecretKeyError
from domiland.transports.errors import TransportError

if TYPE_CHECKING:  # the FTP hook brings Airflow: imported only when a file is uploaded
    from domiland.transports.ftp import DomilandFTPHook, FtpSettings

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 100


@dataclass(frozen=True)
class ExportType:
    format: RecordFormat
    fields: tuple[str, ...]
    kinds: tuple[str, ...]
    """How to render each column: text, num, datetime, date."""
    sql: str
    """Selects the fields in order for (organization_id, window start, window end)."""


def _fmt(name: str, root: str, record: str, title: str) -> RecordFormat:
    return RecordFormat(name=name, root=root, record=record, xsd=f"{name}.xsd", title_ru=title)


EXPORT_TYPES: dict[DataType, ExportType] = {
    DataType.PAYMENTS: ExportType(
        _fmt("payments", "Payments", "Payment", "Платежи"),
        ("PaymentId", "AccountNumber", "Date", "Amount", "Period", "ServiceCode", "Source", "Purpose"),
        ("text", "text", "datetime", "num", "text", "text", "text", "text"),
        "SELECT p.payment_id, a.number, p.paid_at, p.amount, p.period, p.service_code, p.source, p.purpose "
        "FROM payments p JOIN accounts a ON a.id = p.account_id "
        "WHERE p.organization_id = {p} AND p.created_at >= {p} AND p.created_at < {p} ORDER BY p.created_at, p.id"),
    DataType.METER_READINGS: ExportType(
        _fmt("meter_readings", "MeterReadings", "Reading", "Показания ИПУ"),
        ("AccountNumber", "MeterNumber", "Resource", "Date", "Value1", "Value2", "Value3", "Source"),
        ("text", "text", "text", "date", "num", "num", "num", "text"),
        "SELECT a.number, m.number, m.resource, r.reading_date, r.value1, r.value2, r.value3, r.source "
        "FROM meter_readings r JOIN meters m ON m.id = r.meter_id JOIN accounts a ON a.id = r.account_id "
        "WHERE r.organization_id = {p} AND r.created_at >= {p} AND r.created_at < {p} ORDER BY r.created_at, r.id"),
}


def export_block(block_id: int, *, kind: str = "manual", interval: tuple[datetime, datetime] | None = None,
                 dag_id: str | None = None, run_id: str | None = None, now: datetime | None = None) -> ExportReport:
    """Run one export block for the window its run deserves; never raises for settings or transport errors."""
    spec = get_export_spec(block_id)
    report = ExportReport()
    try:
        ftp = get_ftp_settings(spec.organization_id)
    except (LookupError, SecretKeyError) as exc:
        report.fail(str(exc), "settings")
        return report
    if now is None:
        # Rows are stamped before their batch commits: a window ending "now" could miss rows
        # stamped a moment ago and committed a moment later. So "Run now" stops a little earlier.
        now = datetime.now(timezone.utc) - timedelta(seconds=float(os.environ.get("DOMILAND_EXPORT_SETTLE_SECONDS", 30)))
    plan = plan_window(kind=kind, interval=interval, now=now, covered=_covered(block_id), dag_id=dag_id,
                       run_id=run_id)
    zone = ZoneInfo(spec.timezone)
    report.window_start, report.window_end = plan.start.astimezone(zone), plan.end.astimezone(zone)
    if plan.skip_reason:
        report.skipped = plan.skip_reason
        return report
    export_type = EXPORT_TYPES[spec.data_type]
    with tempfile.TemporaryDirectory(prefix="domiland-export-") as tmp:
        local = Path(tmp) / "export.xml"
        with local.open("wb") as out:
            report.rows = write_window(out, export_type, spec.organization_id, plan, zone)
        if report.rows == 0 and spec.skip_empty:
            report.skipped = "в периоде нет записей, а блок настроен не выгружать пустые файлы"
            _record(spec, plan, dag_id, run_id, None, 0)
            return report
        try:
            report.file_name = upload_atomically(ftp, local, spec, plan.end.astimezone(zone), report)
        except TransportError as exc:
            report.fail(str(exc), "transport")
            return report
    _record(spec, plan, dag_id, run_id, report.file_name, report.rows)
    return report


def write_window(out, export_type: ExportType, organization_id: int, plan: Plan, zone: ZoneInfo) -> int:
    """Stream the window's records into ``out`` as one XML document; returns the record count."""
    bulk = BulkConnection.open(get_engine())
    try:
        render = [_RENDER[k](zone) for k in export_type.kinds]
        sql = export_type.sql.format(p=bulk.param)
        params = (organization_id, bulk.timestamp(plan.start), bulk.timestamp(plan.end))
        with RecordWriter(out, export_type.format, export_type.fields) as writer:
            for rows in bulk.stream(sql, params):
                writer.write_rows([[None if v is None else r(v) for r, v in zip(render, row)] for row in rows])
        return writer.count
    finally:
        bulk.close()


def upload_atomically(ftp: FtpSettings, local: Path, spec: BlockSpec, when: datetime, report: ExportReport) -> str:
    """Upload under a temporary name, then rename to a name no existing file has (EXP-3, EXP-5)."""
    from domiland.transports.ftp import DomilandFTPHook

    directory = spec.directory.strip() or ""
    name = when.strftime(spec.filename_template)
    target = posixpath.join(directory, name) if directory else name
    temp = posixpath.join(directory, f".{name}.{uuid.uuid4().hex[:8]}.part") if directory else \
        f".{name}.{uuid.uuid4().hex[:8]}.part"
    with DomilandFTPHook(ftp) as hook:
        if directory:
            hook.make_dirs(directory)
        try:
            with local.open("rb") as data:
                hook.store_from(data, temp)
            final = _free_name(hook, target)
            hook.rename(temp, final)
        except TransportError:
            _discard(ftp, temp)
            raise
    if final != target:
        report.warnings.append(f"Файл {target} уже есть на сервере: выгружено в {final} (шаблон имени даёт повторы — "
                            "добавьте в него время, например %H%M%S)")
    return final


def _free_name(hook: DomilandFTPHook, target: str) -> str:
    stem, ext = posixpath.splitext(target)
    for n in range(MAX_NAME_ATTEMPTS):
        candidate = target if n == 0 else f"{stem}_{n}{ext}"
        if not hook.exists(candidate):
            return candidate
    raise TransportError(f"{MAX_NAME_ATTEMPTS} files named like {target} already exist; clean up the directory")


def _discard(ftp: FtpSettings, temp: str) -> None:
    from domiland.transports.ftp import DomilandFTPHook

    try:
        with DomilandFTPHook(ftp) as hook:
            hook.delete_file(temp)
    except Exception:  # the link may be down: the leftover has a temporary name, never the final one
        log.warning("could not remove the temporary upload %s", temp)


def _covered(block_id: int) -> list[Covered]:
    with session_scope() as session:
        return [Covered(r.kind, _aware(r.window_start), _aware(r.window_end), r.dag_id, r.run_id, r.file_name)
                for r in session.scalars(select(ExportRun).where(ExportRun.block_id == block_id))]


def _record(spec: BlockSpec, plan: Plan, dag_id, run_id, file_name, rows) -> None:
    with session_scope() as session:
        session.add(ExportRun(block_id=spec.block_id, kind=plan.kind, window_start=plan.start, window_end=plan.end,
                              dag_id=dag_id, run_id=run_id, file_name=file_name, rows=rows))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _num(_zone) -> Callable[[Any], str]:
    def render(v: Any) -> str:
        d = v if isinstance(v, Decimal) else Decimal(repr(v)) if isinstance(v, float) else Decimal(str(v))
        text = format(d, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return render


def _datetime(zone: ZoneInfo) -> Callable[[Any], str]:
    def render(v: Any) -> str:
        value = datetime.fromisoformat(v) if isinstance(v, str) else v
        return _aware(value).astimezone(zone).isoformat(timespec="seconds")
    return render


def _date(_zone) -> Callable[[Any], str]:
    return lambda v: v.isoformat() if isinstance(v, date) else str(v)[:10]


def _text(_zone) -> Callable[[Any], str]:
    return str


_RENDER: dict[str, Callable[[ZoneInfo], Callable[[Any], str]]] = {
    "text": _text, "num": _num, "datetime": _datetime, "date": _date}


def validate_filename_template(template: str) -> None:
    """EXP-3: refuse a template that cannot make a safe, dated file name (checked when a block is saved)."""
    import re

    if not template.strip():
        raise ValueError("filename_template: empty; e.g. payments_%Y%m%d_%H%M%S.xml")
    if "/" in template or "\\" in template or template.startswith("."):
        raise ValueError("filename_template: a file name only (no directories, not starting with a dot)")
    for code in re.findall(r"%(.)", template):
        if code not in "YmdHMSjyUWaAbBep%":
            raise ValueError(f"filename_template: %{code} is not a supported date code "
                             "(use %Y %m %d %H %M %S and the like)")
    if not re.search(r"%[YmdHMSjyUW]", template):
        raise ValueError("filename_template: add the date (e.g. %Y%m%d_%H%M%S) so each file gets its own name")
