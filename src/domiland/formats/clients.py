"""The clients exchange format (spec §6, ``include/xml_schemas/clients.xsd``).

A record is flat except for ``AccountNumber``, which may repeat, so it is read
as ``{"ExtId": …, "LastName": …, "Phone": …, …, "AccountNumber": ("1001", …)}``
(always a tuple, possibly empty). Optional elements that are absent or empty
are absent from the dict. The phone is passed on as written; the loader
normalises it (``domiland.loaders.phones``).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from domiland.formats.xml_stream import Record, RecordFormat, iter_records

CLIENTS = RecordFormat(name="clients", root="Clients", record="Client", xsd="clients.xsd", title_ru="Клиенты")


def read(path: Path) -> Iterator[Record]:
    return iter_records(path, CLIENTS, extract_client)


_NAMES = {name: name for name in ("ExtId", "LastName", "FirstName", "MiddleName", "Phone", "Email")}


def extract_client(elem: etree._Element) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    accounts: list[str] = []
    for child in elem:
        tag, text = child.tag, (child.text or "").strip()
        if tag == "AccountNumber":
            accounts.append(text)
        elif text:
            fields[_NAMES[tag]] = text
    fields["AccountNumber"] = tuple(accounts)  # a record of dicts and tuples only: see formats.buildings
    return fields
