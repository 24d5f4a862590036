"""The buildings exchange format (spec §6, ``include/xml_schemas/buildings.xsd``).

Unlike the flat formats, a ``Building`` record holds its premises and each
premise its accounts, so a record is read into a small tree::

    {"ExtId": "B-1", "Address": "…", "Premises": (
        {"ExtId": "B-1/12", "Number": "12", "Type": "APARTMENT", "Floor": "3", "Area": "54.30",
         "Accounts": ({"Number": "1001", "GisNumber": "…"},)},
    )}

Optional elements that are absent are absent from the dicts; text is stripped.

:func:`iter_tree_records` is :func:`domiland.formats.xml_stream.iter_records`
with a pluggable extraction of the (already validated) record element; the
streaming, the per-record validation, the error positions and the refusal of
hostile input are the same. It lives here until ``xml_stream.iter_records``
takes an ``extract`` argument itself.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from domiland.formats.xml_stream import RecordFormat, XmlFormatError, _check_leftovers, _check_root, load_schema

BUILDINGS = RecordFormat(name="buildings", root="Buildings", record="Building", xsd="buildings.xsd",
                         title_ru="Объекты и помещения")

TreeRecord = tuple[int, dict[str, Any]]


def read(path: Path) -> Iterator[TreeRecord]:
    return iter_tree_records(path, BUILDINGS, extract_building)


# A batch holds ~10^5 of these records, so they are made cheap to hold and to move: one str object per element
# name shared by every record (lxml makes a new one at each ``.tag``: memory, and pickle size when a batch
# crosses to another process), and tuples rather than lists, so that once the cyclic garbage collector has seen
# a record (dicts and tuples of strings only) it stops tracking it instead of walking it again at every
# collection while the batch fills up (measured: a third of the reading time).
_NAMES = {name: name for name in ("ExtId", "Address", "Number", "Type", "Floor", "Area", "GisNumber")}


def extract_building(elem: etree._Element) -> dict[str, Any]:
    """The validated ``<Building>`` element as nested dicts (order of premises and accounts kept)."""
    names = _NAMES
    fields: dict[str, Any] = {}
    premises: list[dict[str, Any]] = []
    for child in elem:
        tag = child.tag
        if tag == "Premise":
            premise: dict[str, Any] = {}
            accounts: list[dict[str, str]] = []
            for item in child:
                tag = item.tag
                if tag == "Account":
                    accounts.append({names[a.tag]: (a.text or "").strip() for a in item})
                else:
                    premise[names[tag]] = (item.text or "").strip()
            premise["Accounts"] = tuple(accounts)
            premises.append(premise)
        else:
            fields[names[tag]] = (child.text or "").strip()
    fields["Premises"] = tuple(premises)
    return fields


def iter_tree_records(source: BinaryIO | str | Path, fmt: RecordFormat,
                      extract: Callable[[etree._Element], dict[str, Any]]) -> Iterator[TreeRecord]:
    """Yield ``(line, extract(record))`` per validated record; raise :class:`XmlFormatError` at the first problem.

    Same contract as :func:`~domiland.formats.xml_stream.iter_records` (encoding
    from the XML declaration, DOCTYPE refused, memory flat whatever the file
    size); only the extraction of a record's fields differs.
    """
    schema = load_schema(fmt.xsd)
    if isinstance(source, Path):
        source = str(source)
    context = etree.iterparse(
        source, events=("end",), tag=(fmt.root, fmt.record),
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
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
