"""News feeds (IMP-10): RSS 2.0 and Atom, read with feedparser from the downloaded file.

feedparser is lenient on purpose (real feeds are often slightly broken: an
undefined ``&nbsp;``, a wrong encoding declaration) and sanitises HTML in
titles and summaries (scripts, styles, event handlers and dangerous URLs are
removed), so a "bozo" feed whose items could be read is accepted. Refused
with :class:`XmlFormatError`: an empty file, anything that is not a feed
(typically a server's HTML error page served with status 200), a file over
:data:`MAX_FEED_BYTES` (feedparser is not a streaming parser), a broken feed
with no readable items, a feed cut off before its closing tag (a truncated
download), and DOCTYPE entity declarations (the hub never expands entities).

Each item yields ``(item number, fields)`` with ``guid`` (the RSS guid / Atom
id, else the link; ``None`` when the item has neither — the loader skips it
with a warning), ``title``, ``link`` (only http(s) URLs), ``summary``
(feedparser's sanitised HTML) and ``published_at`` (aware UTC, from the
published date, else the updated date).
"""
from __future__ import annotations

import html
import io
import re
import xml.sax
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import feedparser

from domiland.formats.xml_stream import XmlFormatError

TITLE_MAX = 1024
LINK_MAX = 2048
MAX_FEED_BYTES = 20 * 1024 * 1024
"""feedparser holds the whole document (several times over); a news feed is kilobytes, not gigabytes."""

_PROLOG = re.compile(rb"<[A-Za-z_]")
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_FEED_END = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>\s*(?:<!--.*?-->\s*)*\Z", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def read(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(item number, fields)`` for every item of the RSS/Atom feed in ``path``."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FEED_BYTES:
        raise XmlFormatError(f"лента новостей слишком большая: {size} байт при пределе {MAX_FEED_BYTES} — "
                             "попросите издателя оставить в ленте только последние новости")
    data = path.read_bytes()
    _check_document(data)
    # A file object, never a string: feedparser fetches strings that look like URLs or paths.
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=True, resolve_relative_uris=True)
    _check_parsed(parsed, data)
    for number, entry in enumerate(parsed.entries, start=1):
        yield number, _fields(entry)


def _check_document(data: bytes) -> None:
    if not data.strip():
        raise XmlFormatError("файл пуст: сервер не вернул ленту новостей")
    first_element = _PROLOG.search(data)
    prolog = data[:first_element.start()] if first_element else data[:4096]
    if _ENTITY.search(prolog):
        raise XmlFormatError("DOCTYPE с сущностями (ENTITY) запрещён в лентах", line=1)


def _check_parsed(parsed: Any, data: bytes) -> None:
    head = data[:2048]
    if not parsed.get("version"):
        if _HTML.search(head):
            title = re.search(rb"<title[^>]*>(.*?)</title>", data[:16384], re.IGNORECASE | re.DOTALL)
            shown = f" («{_plain(title.group(1).decode('utf-8', 'replace'))[:80]}»)" if title else ""
            raise XmlFormatError(f"получена HTML-страница{shown}, а не лента RSS 2.0 или Atom: "
                                 "вероятно, страница ошибки сервера или неверный адрес ленты")
        raise XmlFormatError("файл не является лентой RSS 2.0 или Atom" + _bozo_detail(parsed))
    if parsed.get("bozo"):
        if not parsed.entries:
            raise XmlFormatError("лента повреждена, ни одной новости не прочитано" + _bozo_detail(parsed),
                                 line=_bozo_line(parsed))
        if not _FEED_END.search(data[-4096:].rstrip()):
            raise XmlFormatError("лента оборвана: нет закрывающего тега </rss> или </feed> "
                                 "(файл получен не полностью или повреждён)" + _bozo_detail(parsed),
                                 line=_bozo_line(parsed))


def _bozo_detail(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    if exc is None:
        return ""
    if isinstance(exc, xml.sax.SAXParseException):
        return f" ({exc.getMessage()})"
    return f" ({exc})"


def _bozo_line(parsed: Any) -> int | None:
    exc = parsed.get("bozo_exception")
    return exc.getLineNumber() if isinstance(exc, xml.sax.SAXParseException) else None


def _fields(entry: Any) -> dict[str, Any]:
    link = _http_link(entry.get("link"))
    guid = (entry.get("id") or "").strip() or link
    summary = entry.get("summary")
    if not summary and entry.get("content"):
        summary = entry.content[0].get("value")
    summary = (summary.strip() or None) if summary else None
    title = (entry.get("title") or "").strip()
    if title and entry.get("title_detail", {}).get("type") in ("text/html", "application/xhtml+xml"):
        title = _plain(title)
    if not title:
        title = _plain(summary or "")[:200] or link or guid or ""
    if len(title) > TITLE_MAX:
        title = title[:TITLE_MAX - 1] + "…"
    return {"guid": guid or None, "title": title, "link": link, "summary": summary,
            "published_at": _when(entry.get("published_parsed") or entry.get("updated_parsed"))}


def _http_link(value: str | None) -> str | None:
    # feedparser copies a permalink guid into ``link``; keep only real web addresses.
    value = (value or "").strip()
    if not value.lower().startswith(("http://", "https://")) or len(value) > LINK_MAX:
        return None
    return value


def _plain(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def _when(parsed_time: Any) -> datetime | None:
    if not parsed_time:
        return None
    try:
        return datetime(*parsed_time[:6], tzinfo=timezone.utc)  # feedparser normalises to UTC
    except (TypeError, ValueError):
        return None
