"""The buildings exchange format (spec §6, ``include/xml_schemas/buildings.xsd``).

Unlike the flat formats, a ``Building`` record holds its premises and each
premise its accounts, so a record is read into a small tree::

    {"ExtId": "B-1", "Address": "…", "Premises": (
        {"ExtId": "B-1/12", "Number": "12", "Type": "APARTMENT", "Floor": "3", "Area": "54.30",
         "Accounts": ({"Number": "1001", "GisNumber": "…"},)},
    )}

Optional elements that are absent are absent from the dicts; text is stripped.

The streaming, per-record validation, error positions and refusal of hostile
input are those of :func:`domiland.formats.xml_stream.iter_records`; only the
extraction of the (already validated) record differs.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from domiland.formats.xml_stream import Record, RecordFormat, iter_records

BUILDINGS = RecordFormat(name="buildings", root="Buildings", record="Building", xsd="buildings.xsd",
                         title_ru="Объекты и помещения")

def read(path: Path) -> Iterator[Record]:
    return iter_records(path, BUILDINGS, extract_building)


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
