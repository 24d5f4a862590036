"""Excel (.xlsx) accruals, the CRM upload of IMP-11: rows streamed with openpyxl's read-only mode.

The first worksheet is read. Its first non-empty row holds the column headers:
the XML element names (``AccountNumber``) or the Russian headers people use
(``Лицевой счёт``) — case, ``ё``/``е``, spaces and punctuation do not matter.
Every following non-empty row is one accrual. Cells are turned into the text
the XSD expects (an Excel date in ``Период`` becomes ``2026-05``, a number
``100.5`` stays ``100.5``, the text ``1 234,50`` in a money column becomes
``1234.50``), and the record is then built and validated by the JSON path
(:func:`domiland.formats.json_records.build_record`), so a row is accepted
exactly when the same ``<Accrual>`` in an XML file would be, with the same
message. "строка" in messages is the Excel row number.

Hostile files: a workbook is a zip of XML parts; it is refused when it is not
a zip, when its parts would unpack to more than :func:`max_unpacked_bytes`, or
when any part carries a DOCTYPE (as XML files are).
"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from domiland.formats.json_records import JSON_FORMATS, MAX_LISTED_ERRORS, build_record
from domiland.formats.xml_stream import XmlFormatError

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # (element, Russian header, other accepted spellings)
    ("AccountNumber", "Лицевой счёт", ("ЛС", "Номер лицевого счёта", "Номер ЛС")),
    ("Period", "Период", ("Расчётный период", "Месяц")),
    ("ServiceCode", "Код услуги", ()),
    ("ServiceName", "Услуга", ("Наименование услуги",)),
    ("Tariff", "Тариф", ()),
    ("Volume", "Объём", ("Количество",)),
    ("Unit", "Ед. изм.", ("Единица измерения", "Единица")),
    ("Amount", "Сумма", ("Начислено", "Сумма начисления")),
    ("Recalculation", "Перерасчёт", ("Перерасчеты",)),
    ("Benefit", "Льгота", ("Льготы",)),
    ("Penalty", "Пени", ()),
    ("Debt", "Долг", ("Задолженность",)),
    ("Paid", "Оплачено", ()),
    ("TotalPayable", "Итого к оплате", ("К оплате",)),
)
REQUIRED = ("AccountNumber", "Period", "ServiceCode", "Amount")
_DECIMALS = {"Tariff", "Volume", "Amount", "Recalculation", "Benefit", "Penalty", "Debt", "Paid", "TotalPayable"}
_RUSSIAN = {element: russian for element, russian, _ in COLUMNS}


def _norm(header: str) -> str:
    return re.sub(r"[^0-9a-zа-я]", "", header.lower().replace("ё", "е"))


_HEADERS: dict[str, str] = {}
for _element, _russian, _others in COLUMNS:
    for _name in (_element, _russian, *_others):
        _HEADERS[_norm(_name)] = _element


class XlsxFileError(ValueError):
    """The upload is not a readable .xlsx workbook (nothing can be read from it)."""


def max_unpacked_bytes(max_body_bytes: int) -> int:
    """Refuse workbooks whose parts unpack to more than this: 20× the upload cap (sheets compress ~5–10×)."""
    return 20 * max_body_bytes


def check_file(path: Path, max_unpacked: int) -> None:
    """Refuse what is not a safe .xlsx before openpyxl reads it; raises :class:`XlsxFileError`."""
    if not zipfile.is_zipfile(path):
        raise XlsxFileError("файл не является книгой Excel .xlsx (Excel 2007 и новее; .xls и CSV не принимаются — "
                            "сохраните файл как «Книга Excel (*.xlsx)»)")
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            names = {m.filename for m in members}
            if "[Content_Types].xml" not in names:
                raise XlsxFileError("архив не является книгой Excel .xlsx (нет [Content_Types].xml)")
            unpacked = sum(m.file_size for m in members)
            if unpacked > max_unpacked:
                raise XlsxFileError(f"книга распаковывается в {unpacked} байт, больше допустимых {max_unpacked}")
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    _refuse_doctype(zf, member)
    except zipfile.BadZipFile as exc:
        raise XlsxFileError(f"повреждённый файл .xlsx: {exc}") from None
    try:
        workbook = _open(path)
    except XlsxFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise XlsxFileError(f"книгу Excel не удалось прочитать: {exc.__class__.__name__}: {exc}") from None
    try:
        if not workbook.worksheets:
            raise XlsxFileError("в книге нет листов")
    finally:
        workbook.close()


def _refuse_doctype(zf: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    """A part's prolog, up to its root element: any DOCTYPE (and so any ENTITY) is refused."""
    with zf.open(member) as stream:
        context = etree.iterparse(stream, events=("start",), resolve_entities=False, no_network=True,
                                  load_dtd=False, huge_tree=False)
        try:
            for _event, elem in context:
                info = elem.getroottree().docinfo
                if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
                    raise XlsxFileError(f"часть {member.filename}: DOCTYPE и сущности (ENTITY) запрещены")
                return
        except etree.XMLSyntaxError as exc:
            raise XlsxFileError(f"часть {member.filename} повреждена: {exc.msg}") from None


def _open(path: Path):
    from openpyxl import load_workbook

    return load_workbook(path, read_only=True, data_only=True, keep_links=False)


# -- cells → XSD text --------------------------------------------------------------------------------------------


def _number_text(value: float | int | Decimal) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        value = Decimal(repr(value))  # the shortest text that reads back as this float: 0.1, not 0.1000000000000000055…
    return format(value, "f")


_COMMA_NUMBER = re.compile(r"[+-]?\d+(,\d+)?")


def cell_text(element: str, value: Any) -> str | None:
    """A cell's value as the XSD text of ``element``; ``None`` for an empty cell."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if element in _DECIMALS:
            compact = re.sub(r"[\s\u00a0\u202f]", "", text)
            if _COMMA_NUMBER.fullmatch(compact):
                return compact.replace(",", ".")
        if element == "Period":
            m = re.fullmatch(r"(\d{1,2})[./](\d{4})", text)  # 05.2026 → 2026-05
            if m:
                return f"{m.group(2)}-{int(m.group(1)):02d}"
        return text
    if isinstance(value, (datetime, date)):
        if element == "Period":
            return f"{value.year:04d}-{value.month:02d}"
        return value.date().isoformat() if isinstance(value, datetime) and value.time() == time() else value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return _number_text(value)
    return str(value)


# -- rows ----------------------------------------------------------------------------------------------------------


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _rows(path: Path) -> Iterator[tuple[int, tuple]]:
    workbook = _open(path)
    row_no = 0
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # files not written by Excel may declare wrong dimensions
        for row_no, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield row_no, row
    except Exception as exc:  # a sheet is parsed only now: a damaged one fails here, not when opened
        raise XmlFormatError(f"книга Excel повреждена: {exc.__class__.__name__}: {exc}", line=row_no + 1) from None
    finally:
        workbook.close()


def _empty(row: tuple) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _header(row_no: int, row: tuple) -> list[str | None]:
    columns: list[str | None] = []
    seen: dict[str, str] = {}
    for index, value in enumerate(row):
        if value is None or (isinstance(value, str) and not value.strip()):
            columns.append(None)
            continue
        title = str(value).strip()
        element = _HEADERS.get(_norm(title))
        cell = f"{_column_letter(index)}{row_no}"
        if element is None:
            known = ", ".join(f"{russian} ({element})" for element, russian, _ in COLUMNS)
            raise XmlFormatError(f"неизвестный столбец «{title}» (ячейка {cell}); допустимые столбцы: {known}",
                                 line=row_no)
        if element in seen:
            raise XmlFormatError(f"столбец «{title}» (ячейка {cell}) повторяет столбец «{seen[element]}»",
                                 line=row_no)
        seen[element] = title
        columns.append(element)
    missing = [f"«{_RUSSIAN[e]}» ({e})" for e in REQUIRED if e not in seen]
    if missing:
        raise XmlFormatError(f"нет обязательных столбцов: {', '.join(missing)}", line=row_no)
    return columns


def _iter(path: Path) -> Iterator[tuple[int, int, dict[str, str]] | XmlFormatError]:
    """``(row, record number, cells)`` per data row, or the :class:`XmlFormatError` of a structural problem (last)."""
    columns: list[str | None] | None = None
    record_no = 0
    for row_no, row in _rows(path):
        if _empty(row):
            continue
        if columns is None:
            try:
                columns = _header(row_no, row)
            except XmlFormatError as exc:
                yield exc
                return
            continue
        record_no += 1
        cells: dict[str, str] | None = {}
        for index, value in enumerate(row):
            element = columns[index] if index < len(columns) else None
            if element is None:
                if value is not None and not (isinstance(value, str) and not value.strip()):
                    yield XmlFormatError(f"значение в столбце без заголовка (ячейка {_column_letter(index)}{row_no})",
                                         line=row_no, record_no=record_no)
                    cells = None
                    break
                continue
            text = cell_text(element, value)
            if text is not None:
                cells[element] = text
        if cells is not None:
            yield row_no, record_no, cells
    if columns is None:
        yield XmlFormatError("лист пуст: нет строки заголовков (первая непустая строка — названия столбцов, "
                             "например «Лицевой счёт», «Период», «Код услуги», «Сумма»)")


def read(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(row, fields)`` of each valid row, as the accruals loader takes them; raise at the first problem."""
    fmt = JSON_FORMATS["accruals"]
    for item in _iter(path):
        if isinstance(item, XmlFormatError):
            raise item
        row_no, record_no, cells = item
        yield row_no, build_record(fmt, cells, line=row_no, record_no=record_no)


def record_errors(path: Path, limit: int = MAX_LISTED_ERRORS) -> tuple[list[XmlFormatError], int | None]:
    """Every invalid row (the first ``limit``) and the number of data rows: for the API's answer after a stop."""
    fmt = JSON_FORMATS["accruals"]
    errors: list[XmlFormatError] = []
    records = 0
    try:
        for item in _iter(path):
            if isinstance(item, XmlFormatError):
                if item.record_no is None:  # the sheet's structure: nothing else can be said
                    return [item], None
                records += 1
                if len(errors) < limit:
                    errors.append(item)
                continue
            row_no, record_no, cells = item
            records += 1
            if len(errors) < limit:
                try:
                    build_record(fmt, cells, line=row_no, record_no=record_no)
                except XmlFormatError as exc:
                    errors.append(exc)
    except XmlFormatError as exc:  # a damaged sheet: the rows after it cannot be counted
        return [*errors, exc][:limit], None
    return errors, records
