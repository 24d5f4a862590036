"""Streaming, validating reader for the hub's flat XML exchange formats.

Files can be gigabytes, so records are read one at a time with lxml's
``iterparse`` and dropped as soon as they are handed over: memory stays flat
whatever the file size. Each record is validated against its data type's XSD
on its own (the record element is global in every schema), so an invalid
record is reported with its line while earlier ones are already loaded
(IMP-6); validating the whole document instead would only report at the end.

Hostile input is refused: a DOCTYPE (and with it any entity, external or
"billion laughs") is an error, entities are never resolved and nothing is
fetched from the network or the disk.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from sys import intern
from typing import Any, BinaryIO

from lxml import etree

from domiland.config import repo_include_dir

Record = tuple[int, dict[str, Any]]
"""(source line, fields) of one record element: name → stripped text for flat formats."""


@dataclass(frozen=True)
class RecordFormat:
    """A flat exchange format: ``<Root version="1"><Record>…</Record>…</Root>``."""

    name: str
    root: str
    record: str
    xsd: str
    title_ru: str


class XmlFormatError(Exception):
    """The file is malformed, hostile or invalid; says where (IMP-6)."""

    def __init__(self, message: str, *, line: int | None = None, record_no: int | None = None) -> None:
        self.line = line
        self.record_no = record_no
        self.reason = message
        where = []
        if line:
            where.append(f"строка {line}")
        if record_no:
            where.append(f"запись {record_no}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@lru_cache(maxsize=None)
def load_schema(xsd: str) -> etree.XMLSchema:
    """Parse an XSD of ``include/xml_schemas`` once per process."""
    path = repo_include_dir() / "xml_schemas" / xsd
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(path), parser))


def flat_fields(elem: etree._Element) -> dict[str, str]:
    """A flat record's children as ``{name: stripped text}``.

    Names are interned: lxml makes a new string at each ``.tag``, and one shared
    object per name keeps batches small in memory and when pickled to another process.
    """
    return {intern(child.tag): (child.text or "").strip() for child in elem}


def iter_records(source: BinaryIO | str | Path, fmt: RecordFormat,
                 extract: Callable[[etree._Element], dict[str, Any]] = flat_fields) -> Iterator[Record]:
    """Yield ``(line, extract(record))`` per validated record in file order; raise :class:`XmlFormatError`
    at the first problem.

    The encoding comes from the XML declaration (UTF-8 and windows-1251 alike).
    ``extract`` turns the validated record element into fields (nested formats pass their own).
    """
    schema = load_schema(fmt.xsd)
    if isinstance(source, Path):
        source = str(source)
    context = etree.iterparse(
        source, events=("end",), tag=(fmt.root, fmt.record),
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True, remove_blank_text=True,
    )
    root = None
    record_no = 0
    try:
        for _event, elem in context:
            if elem.tag == fmt.root:
                if root is None:  # a file without records
                    root = _check_root(elem, fmt)
                _check_leftovers(elem, fmt)
                continue
            if root is None:
                root = _check_root(elem.getroottree().getroot(), fmt)
            record_no += 1
            line = elem.sourceline or 0
            if elem.getparent() is not root:
                raise XmlFormatError(f"элемент <{fmt.record}> должен лежать прямо в <{fmt.root}>",
                                     line=line, record_no=record_no)
            if not schema.validate(elem):
                err = schema.error_log.last_error
                raise XmlFormatError(f"не соответствует схеме {fmt.xsd}: {err.message}",
                                     line=err.line or line, record_no=record_no)
            fields = extract(elem)
            if elem.tail and elem.tail.strip():
                raise XmlFormatError(f"лишний текст после </{fmt.record}>: {elem.tail.strip()[:40]!r}",
                                     line=line, record_no=record_no)
            # Drop what was read: the record and anything before it (checked first).
            elem.clear(keep_tail=False)
            prev = elem.getprevious()
            while prev is not None:
                if prev.tag != fmt.record:
                    raise XmlFormatError(f"неизвестный элемент <{prev.tag}> в <{fmt.root}>",
                                         line=prev.sourceline, record_no=record_no)
                root.remove(prev)
                prev = elem.getprevious()
            yield line, fields
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise XmlFormatError(f"файл не является корректным XML: {exc.msg}", line=line,
                             record_no=record_no + 1 if record_no else None) from None
    if root is None:
        actual = context.root.tag if context.root is not None else "—"
        raise XmlFormatError(f"корневой элемент <{actual}>, ожидался <{fmt.root}> (формат «{fmt.title_ru}»)")


def _check_root(root: etree._Element, fmt: RecordFormat) -> etree._Element:
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlFormatError("DOCTYPE и сущности (ENTITY) запрещены в файлах обмена", line=1)
    if root.tag != fmt.root:
        raise XmlFormatError(f"корневой элемент <{root.tag}>, ожидался <{fmt.root}>", line=root.sourceline)
    if root.get("version") != "1":
        raise XmlFormatError(f'у <{fmt.root}> должен быть атрибут version="1"', line=root.sourceline)
    extra = set(root.attrib) - {"version"}
    if extra:
        raise XmlFormatError(f"неизвестные атрибуты <{fmt.root}>: {', '.join(sorted(extra))}", line=root.sourceline)
    if root.text and root.text.strip():
        raise XmlFormatError(f"лишний текст в <{fmt.root}>", line=root.sourceline)
    return root


def _check_leftovers(root: etree._Element, fmt: RecordFormat) -> None:
    for child in root:
        if child.tag != fmt.record:
            raise XmlFormatError(f"неизвестный элемент <{child.tag}> в <{fmt.root}>", line=child.sourceline)
