"""JSON bodies of the API import (IMP-11): the XML formats' records, written as JSON, checked by the same XSD.

A body is ``{"records": [ {...}, ... ]}`` (``"version": 1`` may be added, like
the XML root's ``version="1"``). Each record *is* the XML record element written
as a JSON object, by one rule for every data type:

* a child element becomes a key with its text as the value — a string, or a
  number (taken exactly as written: ``100.50`` is the text ``100.50``);
* a repeated element (``Premise``, ``Account``, a client's ``AccountNumber``)
  becomes an array; one item may be given without the brackets;
* an element with children (``Premise``, ``Account``) becomes an object;
* ``null`` means "absent" (the element is left out).

The record is then built as an lxml element (children in the XSD's order where
the schema is a sequence) and validated against the type's record schema, so a
JSON record is accepted exactly when the same record in an XML file would be,
and refused with the same message (``не соответствует схеме accruals.xsd:
Element 'Amount': …``). The fields handed to the loader come from the same
extraction as the XML readers', so loaders cannot tell the two apart.

The body is walked member by member and record by record (``raw_decode``), so
records are parsed one at a time and each error says where: the record's line
in the body, or the line and column of a syntax error.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.decoder import scanstring
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from lxml import etree

from domiland.formats.accruals import ACCRUALS
from domiland.formats.buildings import BUILDINGS, extract_building
from domiland.formats.clients import CLIENTS, extract_client
from domiland.formats.meter_readings import METER_READINGS
from domiland.formats.payments import PAYMENTS
from domiland.formats.xml_stream import RecordFormat, XmlFormatError, load_schema

# -- the formats ---------------------------------------------------------------------------------------------------


def extract_flat(elem: etree._Element) -> dict[str, Any]:
    """The flat formats' fields, exactly as ``xml_stream.iter_records`` reads them."""
    return {child.tag: (child.text or "").strip() for child in elem}


@dataclass(frozen=True)
class JsonFormat:
    record: RecordFormat
    extract: Callable[[etree._Element], dict[str, Any]]
    order: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Child order of elements whose XSD type is a sequence (keys of a JSON object have no order)."""


JSON_FORMATS: dict[str, JsonFormat] = {
    "accruals": JsonFormat(ACCRUALS, extract_flat),  # xs:all: any order
    "payments": JsonFormat(PAYMENTS, extract_flat),
    "meter_readings": JsonFormat(METER_READINGS, extract_flat),
    "buildings": JsonFormat(BUILDINGS, extract_building, {
        "Building": ("ExtId", "Address", "Premise"),
        "Premise": ("ExtId", "Number", "Type", "Floor", "Area", "Account"),
        "Account": ("Number", "GisNumber"),
    }),
    "clients": JsonFormat(CLIENTS, extract_client, {
        "Client": ("ExtId", "LastName", "FirstName", "MiddleName", "Phone", "Email", "AccountNumber"),
    }),
}

MAX_LISTED_ERRORS = 100


# -- parsing -------------------------------------------------------------------------------------------------------


class JsonSyntaxError(ValueError):
    """The body is not JSON (or not UTF-8): nothing can be read from it. Says where."""

    def __init__(self, reason: str, *, line: int | None = None, column: int | None = None,
                 offset: int | None = None) -> None:
        self.reason, self.line, self.column, self.offset = reason, line, column, offset
        where = f"строка {line}, столбец {column}: " if line else ""
        super().__init__(f"{where}некорректный JSON: {reason}")


class _Number(str):
    """A JSON number, kept as the literal the partner wrote."""


class _Object(dict):
    """A JSON object; ``pairs`` keeps every member when a key repeats (hashed as sent, refused in a record)."""

    pairs: list[tuple[str, Any]] | None = None


class _BadConstant(Exception):
    pass


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        obj.pairs = pairs
    return obj


def _constant(name: str) -> Any:
    raise _BadConstant(name)


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_float=_Number, parse_int=_Number,
                            parse_constant=_constant)
_WS = re.compile(r"[ \t\n\r]*")


def decode_text(data: bytes) -> str:
    """UTF-8 (RFC 8259; a leading BOM is tolerated) or :class:`JsonSyntaxError` with the byte's line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise JsonSyntaxError(f"тело не в кодировке UTF-8 (байт {exc.start})", line=line, column=column,
                              offset=exc.start) from None


def _syntax(text: str, exc: Exception, pos: int) -> JsonSyntaxError:
    if isinstance(exc, json.JSONDecodeError):
        return JsonSyntaxError(exc.msg, line=exc.lineno, column=exc.colno, offset=exc.pos)
    if isinstance(exc, _BadConstant):
        reason = f"{exc.args[0]} не является числом JSON"
    elif isinstance(exc, RecursionError):
        reason = "слишком глубокая вложенность"
    else:
        reason = str(exc)
    line = text.count("\n", 0, pos) + 1
    return JsonSyntaxError(reason, line=line, column=pos - (text.rfind("\n", 0, pos) + 1) + 1, offset=pos)


def _value(text: str, pos: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, pos)
    except (json.JSONDecodeError, _BadConstant, RecursionError, ValueError) as exc:
        raise _syntax(text, exc, pos) from None


def _expect(text: str, pos: int, what: str) -> None:
    if text[pos:pos + 1] != what:
        message = f"Expecting '{what}' delimiter" if what in ",:" else f"Expecting '{what}'"
        raise _syntax(text, json.JSONDecodeError(message, text, pos), pos)


@dataclass
class Member:
    """A top-level member other than the records, or the records member when it is not an array."""

    key: str | None
    """``None``: the body is not an object, and this is the whole body."""
    value: Any
    line: int


def walk(text: str) -> Iterator[tuple[int, int, Any] | Member]:
    """Walk the body: ``(record position, line, record)`` for each item of a ``records`` array, else a :class:`Member`.

    The top level must be an object for records to be found; any other JSON value
    is yielded as one ``Member(key=None, …)``. Raises :class:`JsonSyntaxError` at the
    first syntax error, before anything after it is yielded.
    """
    pos = _WS.match(text, 0).end()
    if text[pos:pos + 1] != "{":
        value, end = _value(text, pos)
        _end(text, end)
        yield Member(None, value, 1)
        return
    line, line_pos = 1, 0

    def line_at(p: int) -> int:
        nonlocal line, line_pos
        line += text.count("\n", line_pos, p)
        line_pos = p
        return line

    pos = _WS.match(text, pos + 1).end()
    if text[pos:pos + 1] == "}":
        _end(text, pos + 1)
        return
    while True:
        if text[pos:pos + 1] != '"':
            raise _syntax(text, json.JSONDecodeError("Expecting property name enclosed in double quotes", text, pos),
                          pos)
        try:
            key, pos = scanstring(text, pos + 1)
        except json.JSONDecodeError as exc:
            raise _syntax(text, exc, pos) from None
        pos = _WS.match(text, pos).end()
        _expect(text, pos, ":")
        pos = _WS.match(text, pos + 1).end()
        if key == "records" and text[pos:pos + 1] == "[":
            yield Member("records", [], line_at(pos))  # tells the envelope check that an array was there
            pos = _WS.match(text, pos + 1).end()
            if text[pos:pos + 1] == "]":
                pos += 1
            else:
                while True:
                    record, end = _value(text, pos)
                    yield pos, line_at(pos), record
                    pos = _WS.match(text, end).end()
                    if text[pos:pos + 1] == "]":
                        pos += 1
                        break
                    _expect(text, pos, ",")
                    pos = _WS.match(text, pos + 1).end()
        else:
            value, end = _value(text, pos)
            yield Member(key, value, line_at(pos))
            pos = end
        pos = _WS.match(text, pos).end()
        if text[pos:pos + 1] == "}":
            _end(text, pos + 1)
            return
        _expect(text, pos, ",")
        pos = _WS.match(text, pos + 1).end()


def _end(text: str, pos: int) -> None:
    pos = _WS.match(text, pos).end()
    if pos != len(text):
        raise _syntax(text, json.JSONDecodeError("Extra data", text, pos), pos)


def canonical(value: Any) -> str:
    """The value re-serialised: keys sorted, no white space, strings ASCII-escaped, numbers as written."""
    if isinstance(value, str):
        return str.__str__(value) if isinstance(value, _Number) else encode_basestring_ascii(value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, dict):
        pairs = value.pairs if isinstance(value, _Object) and value.pairs else value.items()
        return "{" + ",".join(f"{encode_basestring_ascii(k)}:{canonical(v)}"
                              for k, v in sorted(pairs, key=lambda kv: kv[0])) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {value!r}")


@dataclass(frozen=True)
class BodySummary:
    canonical_sha256: str
    """SHA-256 of the canonical form of the whole body (see :func:`canonical`)."""
    records: int | None
    """Items of the ``records`` array, when there is one."""


def summarize(data: bytes) -> BodySummary:
    """Check that the body is JSON and fingerprint it; raises :class:`JsonSyntaxError` (nothing is applied then).

    Records are parsed one at a time and only their canonical text is kept, so
    memory stays near the body's size. Canonical form of the body: the members
    sorted by key, the records in order — the same text as ``canonical(whole body)``.
    """
    text = decode_text(data)
    members: list[tuple[str, Any]] = []  # (key, canonical text, or the list of the records' canonical texts)
    current: list[str] | None = None
    count: int | None = None
    whole: str | None = None
    try:
        for item in walk(text):
            if not isinstance(item, Member):
                current.append(canonical(item[2]))
                count += 1
            elif item.key is None:
                whole = canonical(item.value)
            elif item.key == "records" and item.value == [] and isinstance(item.value, list):
                current = []  # the records array begins: its items follow
                count = count or 0
                members.append(("records", current))
            else:
                members.append((item.key, canonical(item.value)))
    except RecursionError:
        raise JsonSyntaxError("слишком глубокая вложенность") from None
    if whole is None:
        parts = sorted(((k, v if isinstance(v, str) else "[" + ",".join(v) + "]") for k, v in members),
                       key=lambda kv: kv[0])
        whole = "{" + ",".join(f"{encode_basestring_ascii(k)}:{v}" for k, v in parts) + "}"
    return BodySummary(hashlib.sha256(whole.encode("ascii")).hexdigest(), count)


# -- records -------------------------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, _Number):
        return "число"
    if isinstance(value, str):
        return "строка"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "массив" if isinstance(value, list) else "объект"


MAX_DEPTH = 8
"""Objects nested deeper than this are refused (the deepest format, buildings, needs 3)."""


def _fill(parent: etree._Element, obj: dict, order: dict[str, tuple[str, ...]], line: int, record_no: int,
          depth: int = 1) -> None:
    if isinstance(obj, _Object) and obj.pairs:
        seen: set[str] = set()
        repeated = next(k for k, _ in obj.pairs if k in seen or seen.add(k))
        raise XmlFormatError(f"поле «{repeated}» повторяется в объекте; повторяющийся элемент передают массивом",
                             line=line, record_no=record_no)
    pairs = list(obj.items())
    rank = order.get(parent.tag)
    if rank:
        position = {name: i for i, name in enumerate(rank)}
        pairs = sorted(pairs, key=lambda kv: position.get(kv[0], len(rank)))  # unknown keys last: the XSD names them
    for key, value in pairs:
        if isinstance(value, str):  # the common case first: one element with text
            try:
                etree.SubElement(parent, key).text = value
                continue
            except ValueError:
                pass  # a bad name or character: said precisely below
        for item in value if isinstance(value, list) else (value,):
            if item is None:
                continue
            if isinstance(item, list):
                raise XmlFormatError(f"поле «{key}»: массив внутри массива не допускается", line=line,
                                     record_no=record_no)
            if isinstance(item, bool):
                raise XmlFormatError(f"поле «{key}»: ожидалась строка или число, получено {_kind(item)}",
                                     line=line, record_no=record_no)
            try:
                child = etree.SubElement(parent, key)
            except ValueError:
                raise XmlFormatError(f"недопустимое имя поля {key!r}: поля называются как элементы XML "
                                     "(например, AccountNumber)", line=line, record_no=record_no) from None
            if isinstance(item, dict):
                if depth >= MAX_DEPTH:
                    raise XmlFormatError(f"поле «{key}»: слишком глубокая вложенность", line=line,
                                         record_no=record_no)
                _fill(child, item, order, line, record_no, depth + 1)
                continue
            try:
                child.text = item
            except ValueError:
                raise XmlFormatError(f"поле «{key}»: значение содержит символ, недопустимый в XML", line=line,
                                     record_no=record_no) from None


def build_record(fmt: JsonFormat, obj: Any, *, line: int, record_no: int) -> dict[str, Any]:
    """One record as the loaders take it, or :class:`XmlFormatError` exactly as the XML reader would raise it."""
    if not isinstance(obj, dict):
        raise XmlFormatError(f"запись должна быть объектом {{…}}, получено: {_kind(obj)}", line=line,
                             record_no=record_no)
    elem = etree.Element(fmt.record.record)
    _fill(elem, obj, fmt.order, line, record_no)
    schema = load_schema(fmt.record.xsd)
    if not schema.validate(elem):
        err = schema.error_log.last_error
        raise XmlFormatError(f"не соответствует схеме {fmt.record.xsd}: {err.message}", line=err.line or line,
                             record_no=record_no)
    return fmt.extract(elem)


def _envelope(text: str, fmt: JsonFormat) -> None:
    """The body's shape: an object with a ``records`` array and at most ``version: 1``."""
    seen: set[str] = set()
    for item in walk(text):
        if not isinstance(item, Member):
            continue
        if item.key is None:
            raise XmlFormatError(f'тело должно быть объектом {{"records": [ … ]}}, получено: {_kind(item.value)}',
                                 line=1)
        if item.key in seen:
            raise XmlFormatError(f"поле «{item.key}» повторяется", line=item.line)
        seen.add(item.key)
        if item.key == "records" and item.value != []:
            raise XmlFormatError(f"«records» должно быть массивом записей, получено: {_kind(item.value)}",
                                 line=item.line)
        if item.key == "version" and str(item.value) != "1":
            raise XmlFormatError(f"«version» должно быть 1, получено: {item.value!r}", line=item.line)
        if item.key not in ("records", "version"):
            raise XmlFormatError(f"неизвестное поле «{item.key}»: допустимы records и version "
                                 f"(формат «{fmt.record.title_ru}»)", line=item.line)
    if "records" not in seen:
        raise XmlFormatError('нет поля «records»: тело должно быть {"records": [ … ]}', line=1)


def iter_json_records(source: Path | bytes, data_type: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, fields)`` of each valid record; raise :class:`XmlFormatError` at the first problem.

    The envelope is checked first (an unknown member after the records must not
    let the records in before it is noticed).
    """
    fmt = JSON_FORMATS[data_type]
    text = decode_text(source.read_bytes() if isinstance(source, Path) else source)
    try:
        _envelope(text, fmt)
        record_no = 0
        for item in walk(text):
            if isinstance(item, Member):
                continue
            record_no += 1
            _pos, line, obj = item
            yield line, build_record(fmt, obj, line=line, record_no=record_no)
    except JsonSyntaxError as exc:  # the caller normally checked with summarize() first
        raise XmlFormatError(f"некорректный JSON: {exc.reason}", line=exc.line) from None


def record_errors(source: Path | bytes, data_type: str, limit: int = MAX_LISTED_ERRORS,
                  ) -> tuple[list[XmlFormatError], int | None]:
    """Every invalid record (the first ``limit``) and the number of records: for the API's answer after a stop."""
    fmt = JSON_FORMATS[data_type]
    errors: list[XmlFormatError] = []
    try:
        text = decode_text(source.read_bytes() if isinstance(source, Path) else source)
        _envelope(text, fmt)
    except (XmlFormatError, JsonSyntaxError) as exc:
        if isinstance(exc, JsonSyntaxError):
            exc = XmlFormatError(f"некорректный JSON: {exc.reason}", line=exc.line)
        return [exc], None
    record_no = 0
    for item in walk(text):
        if isinstance(item, Member):
            continue
        record_no += 1
        _pos, line, obj = item
        if len(errors) < limit:
            try:
                build_record(fmt, obj, line=line, record_no=record_no)
            except XmlFormatError as exc:
                errors.append(exc)
    return errors, record_no


def _reader(data_type: str) -> Callable[[Path], Iterator[tuple[int, dict[str, Any]]]]:
    def read(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        return iter_json_records(path, data_type)

    read.__name__ = read.__qualname__ = f"read_{data_type}"
    return read


# Readers by dotted path (``domiland.formats.json_records:read_accruals``), as ``exchange.registry`` names them:
# the import pipeline (and its parse-in-a-second-process path) takes them like the XML readers.
read_accruals = _reader("accruals")
read_payments = _reader("payments")
read_meter_readings = _reader("meter_readings")
read_buildings = _reader("buildings")
read_clients = _reader("clients")
