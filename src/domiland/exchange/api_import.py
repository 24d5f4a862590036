"""API import use case (IMP-11): a partner's JSON or XML body, or an Excel upload of accruals, into the CRM.

No HTTP here: the router (``domiland.api.routers.imports``) authenticates, checks
the content type, reads the body under the size cap and maps the outcome to a
status code. This module decides everything else, in this order:

1. **The body must be readable** — JSON that parses (UTF-8), XML that is
   well-formed and has no DOCTYPE, a real .xlsx. Otherwise the request is
   refused whole (outcome ``malformed``: nothing applied, not a duplicate
   candidate), with the position of the problem.
2. **Duplicates** (the help page: "идентичный запрос на импорт по API уже
   выполнялся в течение последних трех дней"): same organization, data type
   and body fingerprint as a request applied in the last :data:`DUPLICATE_WINDOW`
   → not applied, logged ``Duplicate``, answered with the original's ids.
   Fingerprint: SHA-256 of the canonical JSON (parsed, keys sorted, no white
   space, numbers as written) or of the raw bytes (XML, .xlsx). Identical
   requests are decided one at a time (a transaction-scoped advisory lock on
   PostgreSQL; SQLite's single writer), so a retry that arrives while the
   original is still running is a duplicate of it.
3. **The import** — through :func:`domiland.exchange.imports.load_file`, the
   very function that imports FTP files: the same loaders, batches, warnings,
   counts and stop-at-the-first-error rule (IMP-6). JSON and Excel only bring
   their own readers (``formats.json_records``, ``formats.xlsx_accruals``),
   which build each record as the XML element and validate it with the same XSD.
   After a stop, the rest of the body is validated (not applied) so that the
   answer lists every invalid record, not just the first.

Each request that gets this far is one :class:`~domiland.db.models.ApiImport`
row (its id is the import id) and one integration-log row (method ``URL``, task
"Импорт начислений (API)", no Airflow run).
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import io
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import select, text

from domiland.db.engine import session_scope
from domiland.db.models import ApiImport, DataType, IntegrationLog, LogStatus, Method, Organization, utcnow
from domiland.exchange.blocks import TITLES_RU
from domiland.exchange.imports import load_file
from domiland.exchange.registry import IMPORT_TYPES, ImportType
from domiland.exchange.report import FileReport, ImportReport
from domiland.formats import json_records, xlsx_accruals
from domiland.formats.json_records import JsonSyntaxError
from domiland.formats.xml_stream import XmlFormatError, load_schema

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(days=3)
STALE_RUNNING = timedelta(minutes=30)
"""A request still ``Running`` after this long died with its process: it no longer blocks a retry."""
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_LISTED_ERRORS = json_records.MAX_LISTED_ERRORS

API_DATA_TYPES: tuple[DataType, ...] = tuple(dt for dt, t in IMPORT_TYPES.items() if t.method == Method.XML)
"""What the API imports: the XML exchange formats (feeds are fetched by URL, not posted)."""

_STATUS_RU = {LogStatus.RUNNING.value: "Выполняется", LogStatus.DONE.value: "Выполнено",
              LogStatus.ERROR.value: "Ошибка", LogStatus.WARNING.value: "Предупреждение",
              LogStatus.DUPLICATE.value: "Дубликат"}


def max_body_bytes() -> int:
    """``DOMILAND_API_MAX_BODY_BYTES`` (default 10 MiB): larger bodies are refused while they stream in."""
    return int(os.environ.get("DOMILAND_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


class BodyFormat(str, enum.Enum):
    JSON = "json"
    XML = "xml"
    XLSX = "xlsx"
    """Accruals only."""


class Outcome(str, enum.Enum):
    APPLIED = "applied"
    """Imported: status Done or Warning."""
    INVALID = "invalid"
    """Stopped at an invalid record (or the body's structure): records before it are applied (IMP-6)."""
    DUPLICATE = "duplicate"
    """Identical to a request of the last 3 days: not applied."""
    MALFORMED = "malformed"
    """Not JSON / not well-formed XML / DOCTYPE / not an .xlsx: nothing applied."""
    TOO_LARGE = "too_large"
    """Over the size cap: refused while streaming, nothing applied."""


class UnknownDataType(LookupError):
    def __init__(self, data_type: str, allowed: tuple[str, ...]) -> None:
        self.data_type = data_type
        super().__init__(f"Unknown data type {data_type!r}: use one of {', '.join(allowed)}")


class OrganizationNotFound(LookupError):
    def __init__(self, organization_id: int) -> None:
        super().__init__(f"Organization {organization_id} not found")


class BodyFormatError(ValueError):
    """The body cannot be read at all (outcome ``malformed``); says where when it can."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 offset: int | None = None) -> None:
        self.reason, self.line, self.column, self.offset = message, line, column, offset
        where = ", ".join(p for p in (f"строка {line}" if line else "", f"столбец {column}" if column else "") if p)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Target:
    organization_id: int
    data_type: DataType
    timezone: str


def resolve_target(organization_id: int, data_type: str, fmt: BodyFormat | None = None) -> Target:
    """The data type named in the URL, for an organization that exists; raises :class:`LookupError` subclasses."""
    allowed = ("accruals",) if fmt == BodyFormat.XLSX else tuple(dt.value for dt in API_DATA_TYPES)
    if data_type not in allowed:
        raise UnknownDataType(data_type, allowed)
    with session_scope() as session:
        org = session.get(Organization, organization_id)
        if org is None:
            raise OrganizationNotFound(organization_id)
        return Target(organization_id, DataType(data_type), org.timezone)


# -- the result ----------------------------------------------------------------------------------------------------


@dataclass
class ApiImportResult:
    """What the API answers and ``GET …/imports/{id}`` returns; stored as ``api_imports.result``."""

    import_id: int
    organization_id: int
    data_type: str
    format: str
    source: str
    """The label used in messages: ``JSON``, ``XML`` or the uploaded file's name."""
    status: str
    outcome: str
    log_entry_id: int | None
    task: str
    received_at: str
    duplicate_of: int | None = None
    original: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("read", "created", "updated", "unchanged", "skipped"), 0))
    records_total: int | None = None
    stopped_at_record: int | None = None
    records_not_applied: int | None = None
    warning_count: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    error_position: dict[str, int | None] | None = None
    invalid_records: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApiImportResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class ApiImportReport(ImportReport):
    """An :class:`ImportReport` of one request body: the same message, without "files", saying what was applied."""

    stopped_at_record: int | None = None
    records_not_applied: int | None = None

    def summary_lines(self) -> list[str]:
        lines = [f"Прочитано записей: {self.total('read')}; создано {self.total('created')}, "
                 f"обновлено {self.total('updated')}, без изменений {self.total('unchanged')}, "
                 f"пропущено {self.total('skipped')}."]
        if self.stopped_at_record is not None:
            first = self.stopped_at_record
            rest = f" (не применено записей: {self.records_not_applied})" if self.records_not_applied else ""
            if first <= 1:
                lines.append(f"Импорт остановлен: ни одна запись не применена{rest}.")
            else:
                applied = "запись 1 применена" if first == 2 else f"записи 1–{first - 1} применены"
                lines.append(f"Импорт остановлен на записи {first}: {applied}, запись {first} и следующие "
                             f"не применены{rest}.")
        return lines


def _title(target: Target, fmt: BodyFormat) -> tuple[str, str]:
    """(task_type, task title) of the log row."""
    base = TITLES_RU[("import", target.data_type)]
    if fmt == BodyFormat.XLSX:
        return f"xlsx_import_{target.data_type.value}", f"{base} (Excel)"
    return f"api_import_{target.data_type.value}", f"{base} (API)"


def task_types() -> list[tuple[str, str]]:
    """(task_type, title) of every log row this module writes, for the log's task-type filter."""
    types = [_title(Target(0, dt, ""), BodyFormat.JSON) for dt in API_DATA_TYPES]
    return types + [_title(Target(0, DataType.ACCRUALS, ""), BodyFormat.XLSX)]


def _label(fmt: BodyFormat, source_name: str | None) -> str:
    if fmt == BodyFormat.XLSX and source_name:
        name = re.split(r"[\\/]", source_name)[-1]
        name = "".join(ch for ch in name if ch.isprintable()).strip()[:120]
        if name:
            return name
    return fmt.value.upper()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _local(value: datetime, zone: str) -> str:
    try:
        tz = ZoneInfo(zone)
    except Exception:  # an unknown zone name must not break the answer
        tz = timezone.utc
    return f"{_aware(value).astimezone(tz):%d.%m.%Y %H:%M:%S %Z}".strip()


# -- the use case --------------------------------------------------------------------------------------------------


def run_api_import(organization_id: int, data_type: str, fmt: BodyFormat, body: bytes, *,
                   source_name: str | None = None) -> ApiImportResult:
    """Import one request body now (synchronously); never raises for bad input. See the module docstring."""
    target = resolve_target(organization_id, data_type, fmt)
    label = _label(fmt, source_name)
    with tempfile.TemporaryDirectory(prefix="domiland-api-import-") as tmp:
        local = Path(tmp) / f"body.{fmt.value}"
        local.write_bytes(body)
        records_total: int | None = None
        try:
            if fmt == BodyFormat.JSON:
                summary = json_records.summarize(body)
                body_hash, records_total = summary.canonical_sha256, summary.records
            elif fmt == BodyFormat.XML:
                check_xml(body)
                body_hash = hashlib.sha256(body).hexdigest()
            else:
                xlsx_accruals.check_file(local, xlsx_accruals.max_unpacked_bytes(max_body_bytes()))
                body_hash = hashlib.sha256(body).hexdigest()
        except (JsonSyntaxError, BodyFormatError, xlsx_accruals.XlsxFileError) as exc:
            position = None
            if isinstance(exc, (JsonSyntaxError, BodyFormatError)):
                position = {"line": exc.line, "column": exc.column, "offset": exc.offset}
            return _refuse(target, fmt, label, Outcome.MALFORMED, f"{label}: {exc}",
                           hashlib.sha256(body).hexdigest(), position)
        registered = _register(target, fmt, label, body_hash)
        if registered.duplicate_of is not None:
            return registered
        return _apply(target, fmt, label, local, registered, records_total)


def refuse_too_large(organization_id: int, data_type: str, fmt: BodyFormat, *, received: int, declared: int | None,
                     source_name: str | None = None) -> ApiImportResult:
    """Log a body refused for its size (it was not read to the end); nothing is applied."""
    target = resolve_target(organization_id, data_type, fmt)
    cap = max_body_bytes()
    size = f"объявлено {declared} байт" if declared is not None else f"получено более {received} байт"
    message = (f"тело запроса больше допустимых {cap} байт ({size}); разделите данные на несколько запросов "
               "до этого размера")
    label = _label(fmt, source_name)
    return _refuse(target, fmt, label, Outcome.TOO_LARGE, f"{label}: {message}",
                   hashlib.sha256(f"too-large:{received}:{declared}".encode()).hexdigest(), None)


def get_api_import(organization_id: int, import_id: int) -> ApiImportResult | None:
    """One import of the organization by id (``None`` when there is none); a duplicate shows its original's status now."""
    with session_scope() as session:
        row = session.get(ApiImport, import_id)
        if row is None or row.organization_id != organization_id or not row.result:
            return None
        result = ApiImportResult.from_dict(row.result)
        if row.duplicate_of is not None and result.original is not None:
            original = session.get(ApiImport, row.duplicate_of)
            if original is not None and original.result:
                result.original["status"] = original.result.get("status", result.original.get("status"))
        return result


def check_xml(body: bytes) -> None:
    """Well-formed and without DOCTYPE, else :class:`BodyFormatError`: such a body is refused before anything is applied.

    The same parser settings as the file import (no entity resolved, nothing
    fetched); the tree is dropped as it is read. The structure (root element,
    records, schema) is left to the reader, which reports it like for a file.
    """
    etree.clear_error_log()  # this thread's log: the syntax error's real reason is read from it below
    context = etree.iterparse(io.BytesIO(body), events=("start", "end"), resolve_entities=False, no_network=True,
                              load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)
    checked = False
    try:
        for event, elem in context:
            if not checked:
                info = elem.getroottree().docinfo
                if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
                    raise BodyFormatError("DOCTYPE и сущности (ENTITY) запрещены в файлах обмена", line=1)
                checked = True
            if event == "end":
                elem.clear(keep_tail=False)
                while elem.getprevious() is not None:
                    del elem.getparent()[0]
    except etree.XMLSyntaxError as exc:
        # iterparse over a file object reports a generic "no element found"; the log has the first real error.
        first = next((e for e in exc.error_log if e.domain_name == "PARSER"), None)
        message, line, column = (first.message, first.line, first.column) if first else (exc.msg, exc.lineno,
                                                                                           exc.offset)
        raise BodyFormatError(f"документ не является корректным XML: {message}",
                              line=line if line and line > 0 else None,
                              column=column if column and column > 0 else None) from None


# -- steps ---------------------------------------------------------------------------------------------------------


def _new_result(row_id: int, log_id: int | None, target: Target, fmt: BodyFormat, label: str, title: str,
                status: LogStatus, outcome: Outcome, received: datetime) -> ApiImportResult:
    return ApiImportResult(import_id=row_id, organization_id=target.organization_id,
                           data_type=target.data_type.value, format=fmt.value, source=label, status=status.value,
                           outcome=outcome.value, log_entry_id=log_id,
                           task=f"{title} {log_id}" if log_id is not None else title,
                           received_at=_aware(received).isoformat())


def _refuse(target: Target, fmt: BodyFormat, label: str, outcome: Outcome, error: str, body_hash: str,
            position: dict[str, int | None] | None) -> ApiImportResult:
    """An import refused before it began (unreadable or too large body): logged as Error, never a duplicate's original."""
    task_type, title = _title(target, fmt)
    now = utcnow()
    report = ApiImportReport(files=[FileReport(path=label)])
    report.fail(error, "request")
    with session_scope() as session:
        entry = IntegrationLog(organization_id=target.organization_id, status=LogStatus.ERROR, task_type=task_type,
                               task_title=title, method=Method.URL, message="", created_at=now, updated_at=now)
        session.add(entry)
        session.flush()
        row = ApiImport(organization_id=target.organization_id, data_type=target.data_type, body_hash=body_hash,
                        log_entry_id=entry.id, created_at=now)
        session.add(row)
        session.flush()
        result = _new_result(row.id, entry.id, target, fmt, label, title, LogStatus.ERROR, outcome, now)
        result.error, result.error_kind, result.error_position = error, "request", position
        result.stopped_at_record = 1
        result.message = entry.message = f"Ошибка: {error}\nЗапрос не применён: ни одна запись не импортирована."
        entry.details = {**report.to_dict(), "api_import_id": row.id, "format": fmt.value, "outcome": outcome.value}
        row.result = result.to_dict()
    log.info("API import %s refused (%s): %s", result.import_id, outcome.value, error)
    return result


def _lock_key(target: Target, body_hash: str) -> int:
    digest = hashlib.sha256(f"{target.organization_id}:{target.data_type.value}:{body_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _counts_as_original(row: ApiImport, now: datetime) -> bool:
    result = row.result or {}
    if result.get("error_kind") in ("request", "internal"):  # refused unread, or our own failure: may be retried
        return False
    if result.get("status", LogStatus.RUNNING.value) == LogStatus.RUNNING.value:
        return _aware(row.created_at) >= now - STALE_RUNNING
    return True


def _register(target: Target, fmt: BodyFormat, label: str, body_hash: str) -> ApiImportResult:
    """Create the import and its log row, deciding in the same transaction whether it is a duplicate."""
    task_type, title = _title(target, fmt)
    now = utcnow()
    with session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(target, body_hash)})
        row = ApiImport(organization_id=target.organization_id, data_type=target.data_type, body_hash=body_hash,
                        created_at=now, result={"status": LogStatus.RUNNING.value})
        session.add(row)
        session.flush()  # SQLite: this INSERT takes the database's write lock, so identical requests queue here
        candidates = session.scalars(
            select(ApiImport)
            .where(ApiImport.organization_id == target.organization_id, ApiImport.data_type == target.data_type,
                   ApiImport.body_hash == body_hash, ApiImport.duplicate_of.is_(None), ApiImport.id != row.id,
                   ApiImport.created_at >= now - DUPLICATE_WINDOW)
            .order_by(ApiImport.id.desc())).all()
        original = next((c for c in candidates if _counts_as_original(c, now)), None)
        status = LogStatus.DUPLICATE if original is not None else LogStatus.RUNNING
        entry = IntegrationLog(organization_id=target.organization_id, status=status, task_type=task_type,
                               task_title=title, method=Method.URL, message="", created_at=now, updated_at=now)
        session.add(entry)
        session.flush()
        row.log_entry_id = entry.id
        outcome = Outcome.DUPLICATE if original is not None else Outcome.APPLIED
        result = _new_result(row.id, entry.id, target, fmt, label, title, status, outcome, now)
        if original is not None:
            row.duplicate_of = result.duplicate_of = original.id
            orig = original.result or {}
            result.original = {"import_id": original.id, "log_entry_id": original.log_entry_id,
                               "task": orig.get("task"), "status": orig.get("status", LogStatus.RUNNING.value),
                               "received_at": _aware(original.created_at).isoformat()}
            until = _aware(original.created_at) + DUPLICATE_WINDOW
            result.message = entry.message = (
                f"Дубликат: идентичный запрос на импорт по API уже выполнялся "
                f"{_local(original.created_at, target.timezone)} (импорт {original.id}, задача "
                f"«{orig.get('task') or title}», статус «{_STATUS_RU.get(result.original['status'], '')}»). "
                f"Данные не применены; тот же запрос будет принят после {_local(until, target.timezone)}.")
            entry.details = {"api_import_id": row.id, "format": fmt.value, "outcome": outcome.value,
                             "duplicate_of": original.id, "status": status.value}
        row.result = result.to_dict()
    if original is not None:
        log.info("API import %s is a duplicate of %s", result.import_id, result.duplicate_of)
    return result


def _reader_type(target: Target, fmt: BodyFormat) -> ImportType:
    import_type = IMPORT_TYPES[target.data_type]
    if fmt == BodyFormat.JSON:
        return dataclasses.replace(import_type,
                                   reader_path=f"domiland.formats.json_records:read_{target.data_type.value}")
    if fmt == BodyFormat.XLSX:
        return dataclasses.replace(import_type, reader_path="domiland.formats.xlsx_accruals:read")
    return import_type


def _record_errors(target: Target, fmt: BodyFormat, path: Path) -> tuple[list[XmlFormatError], int | None]:
    if fmt == BodyFormat.JSON:
        return json_records.record_errors(path, target.data_type.value)
    if fmt == BodyFormat.XLSX:
        return xlsx_accruals.record_errors(path)
    return xml_record_errors(path, json_records.JSON_FORMATS[target.data_type.value].record)


def xml_record_errors(path: Path, fmt, limit: int = MAX_LISTED_ERRORS) -> tuple[list[XmlFormatError], int | None]:
    """Every record of an XML body that fails its schema (the first ``limit``), and the number of records."""
    schema = load_schema(fmt.xsd)
    context = etree.iterparse(str(path), events=("end",), tag=fmt.record, resolve_entities=False, no_network=True,
                              load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)
    errors: list[XmlFormatError] = []
    record_no = 0
    try:
        for _event, elem in context:
            record_no += 1
            if len(errors) < limit and not schema.validate(elem):
                err = schema.error_log.last_error
                errors.append(XmlFormatError(f"не соответствует схеме {fmt.xsd}: {err.message}",
                                             line=err.line or elem.sourceline, record_no=record_no))
            elem.clear(keep_tail=False)
    except etree.XMLSyntaxError:  # checked before the import began; nothing more to list
        return errors, None
    return errors, record_no


def _apply(target: Target, fmt: BodyFormat, label: str, local: Path, result: ApiImportResult,
           records_total: int | None) -> ApiImportResult:
    report = ApiImportReport()
    file_report = FileReport(path=label)
    report.files.append(file_report)
    try:
        load_file(local, _reader_type(target, fmt), target.organization_id, file_report, report)
        invalid: list[XmlFormatError] = []
        if report.error:
            invalid, total = _record_errors(target, fmt, local)
            records_total = total if total is not None else records_total
            report.stopped_at_record = file_report.read + 1
            if records_total is not None:
                report.records_not_applied = max(records_total - file_report.read, 0)
        else:
            records_total = file_report.read
    except Exception as exc:  # a bug or a database outage: leave a readable row, then let the API answer 500
        report.fail(f"внутренняя ошибка импорта ({exc.__class__.__name__}); подробности в журнале сервера hub",
                    "internal")
        _finish(result, report, fmt, [], records_total)
        raise
    return _finish(result, report, fmt, invalid, records_total)


def _finish(result: ApiImportResult, report: ApiImportReport, fmt: BodyFormat, invalid: list[XmlFormatError],
            records_total: int | None) -> ApiImportResult:
    file_report = report.files[0]
    result.status = report.status.value
    result.outcome = (Outcome.APPLIED if report.error is None else Outcome.INVALID).value
    result.counts = {name: getattr(file_report, name) for name in ("read", "created", "updated", "unchanged", "skipped")}
    result.records_total = records_total
    result.stopped_at_record = report.stopped_at_record
    result.records_not_applied = report.records_not_applied
    result.warning_count, result.warnings = report.warning_count, list(report.warnings)
    result.error, result.error_kind = report.error, report.error_kind
    result.invalid_records = [{"record": e.record_no, "line": e.line, "message": e.reason} for e in invalid]
    result.message = report.message()
    with session_scope() as session:
        entry = session.get(IntegrationLog, result.log_entry_id)
        entry.status = report.status
        entry.message = result.message
        entry.details = {**report.to_dict(), "api_import_id": result.import_id, "format": fmt.value,
                         "outcome": result.outcome, "invalid_records": result.invalid_records}
        entry.updated_at = utcnow()
        row = session.get(ApiImport, result.import_id)
        row.result = result.to_dict()
    log.info("API import %s: %s", result.import_id, result.message.replace("\n", " | "))
    return result
