"""Showcase offers (IMP-10): the Yandex.Realty offer feed that developers publish for listing sites.

``<realty-feed xmlns="http://webmaster.yandex.ru/schemas/feed/realty/2010-06">``
with ``<generation-date>`` and ``<offer internal-id="…">`` elements. Read with
lxml's ``iterparse`` one offer at a time, dropping each offer (and everything
before it) once read, so memory stays flat for large feeds. Hardened like
:mod:`domiland.formats.xml_stream`: a DOCTYPE is refused, entities are never
resolved, nothing is fetched from the network.

Only the fields the CRM shows are taken — ``type``, ``category``,
``price/value`` + ``price/currency``, ``area/value``, ``rooms``, ``floor``,
``location/address``, ``image`` (0..n), ``deal-status``; any other element
(publishers add their own) is ignored. Elements are matched by local name, so
a feed published without the Yandex namespace is read too. An offer without
``internal-id`` is yielded with ``internal_id=None`` (the loader skips it with
a warning); a number that is not a number is an error (IMP-6), which stops the
run before any offer is withdrawn.
"""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from domiland.formats.xml_stream import XmlFormatError

YANDEX_REALTY_NS = "http://webmaster.yandex.ru/schemas/feed/realty/2010-06"
ROOT = "realty-feed"

_LIMITS = {"type": 32, "category": 64, "currency": 8, "address": 1024, "deal_status": 64}
_INT_RANGE = (-(2**31) + 1, 2**31 - 1)
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009\t\r\n")


def read(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(source line, fields)`` for every ``<offer>`` of the feed in ``path``, in file order."""
    context = etree.iterparse(
        str(path), events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )
    root = None
    offer_no = 0
    try:
        for event, elem in context:
            if root is None:
                root = _check_root(elem)
                continue
            if event != "end" or elem.getparent() is not root:
                continue
            if _local(elem) == "offer":
                offer_no += 1
                line = elem.sourceline or 0
                fields = _offer(elem, line, offer_no)
            else:
                fields = None  # generation-date and the publisher's own elements
            elem.clear(keep_tail=False)
            while elem.getprevious() is not None:
                del root[0]
            if fields is not None:
                yield line, fields
    except etree.XMLSyntaxError as exc:
        if root is None and _looks_like_html(path):
            raise _html_error() from None
        raise XmlFormatError(f"фид не является корректным XML (возможно, получен не полностью): {exc.msg}",
                             line=exc.lineno or None, record_no=offer_no + 1 if offer_no else None) from None
    if root is None:
        raise XmlFormatError("файл пуст: сервер не вернул фид предложений")


def _check_root(root: etree._Element) -> etree._Element:
    local, ns = _local(root), etree.QName(root).namespace
    if local.lower() == "html":
        raise _html_error()
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlFormatError("DOCTYPE и сущности (ENTITY) запрещены в фиде", line=1)
    if local != ROOT or ns not in (YANDEX_REALTY_NS, None):
        shown = f"{{{ns}}}{local}" if ns else local
        raise XmlFormatError(f"корневой элемент <{shown}>, ожидался <{ROOT} xmlns=\"{YANDEX_REALTY_NS}\"> "
                             "(фид Яндекс.Недвижимости)", line=root.sourceline)
    return root


def _html_error() -> XmlFormatError:
    return XmlFormatError("получена HTML-страница, а не фид Яндекс.Недвижимости <realty-feed>: "
                          "вероятно, страница ошибки сервера или неверный адрес фида")


def _looks_like_html(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(2048).lower()
    return b"<html" in head or b"<!doctype html" in head


def _local(elem: etree._Element) -> str:
    return etree.QName(elem).localname


def _offer(elem: etree._Element, line: int, offer_no: int) -> dict[str, Any]:
    internal_id = (elem.get("internal-id") or "").strip() or None
    first: dict[str, etree._Element] = {}
    images: list[str] = []
    for child in elem:
        if not isinstance(child.tag, str):
            continue  # an entity reference left unresolved
        name = _local(child)
        first.setdefault(name, child)
        if name == "image":
            url = _text(child)
            if url:
                images.append(url)

    def text(name: str, sub: str | None = None) -> str | None:
        node = first.get(name)
        if node is not None and sub is not None:
            node = next((c for c in node if isinstance(c.tag, str) and _local(c) == sub), None)
        return _text(node) if node is not None else None

    def number(name: str, sub: str | None = None) -> str | None:
        raw = text(name, sub)
        if raw is None:
            return None
        cleaned = raw.translate(_SPACES).replace(",", ".")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise _bad_value(internal_id, f"{name}/{sub}" if sub else name, raw, line, offer_no)
        return format(value, "f")

    def integer(name: str) -> int | None:
        raw = text(name)
        if raw is None:
            return None
        try:
            value = int(raw.translate(_SPACES))
        except ValueError:
            raise _bad_value(internal_id, name, raw, line, offer_no) from None
        if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            raise _bad_value(internal_id, name, raw, line, offer_no)
        return value

    fields = {
        "internal_id": internal_id,
        "type": text("type"),
        "category": text("category"),
        "price": number("price", "value"),
        "currency": text("price", "currency"),
        "area": number("area", "value"),
        "rooms": integer("rooms"),
        "floor": integer("floor"),
        "address": text("location", "address"),
        "images": images,
        "deal_status": text("deal-status"),
    }
    for name, limit in _LIMITS.items():
        if fields[name] is not None and len(fields[name]) > limit:
            fields[name] = fields[name][:limit]
    return fields


def _text(node: etree._Element) -> str | None:
    value = " ".join("".join(node.itertext()).split())
    return value or None


def _bad_value(internal_id: str | None, name: str, raw: str, line: int, offer_no: int) -> XmlFormatError:
    who = f"предложение {internal_id}" if internal_id else "предложение"
    return XmlFormatError(f"{who}: <{name}> должно быть числом, получено {raw[:40]!r}", line=line,
                          record_no=offer_no)
