"""Where a block's files come from: the organization's FTP server (method XML) or a URL (method URL)."""
from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from domiland.transports.ftp import FtpSettings


class Source(Protocol):
    def fetch(self, path: str, out: BinaryIO, max_bytes: int) -> None:
        """Stream ``path`` into ``out``; raise ``TransportError`` subclasses on failure."""

    def delete(self, path: str) -> None:
        """Remove ``path`` after a clean import (IMP-3)."""

    def label(self, path: str) -> str:
        """How ``path`` appears in reports and logs: never with credentials."""


class FtpSource:
    """A fresh FTP session per call: a long parse between fetch and delete cannot time it out."""

    def __init__(self, settings: FtpSettings) -> None:
        self.settings = settings

    def fetch(self, path: str, out: BinaryIO, max_bytes: int) -> None:
        from domiland.transports.ftp import DomilandFTPHook

        with DomilandFTPHook(self.settings) as hook:
            hook.retrieve_to(path, out, max_bytes=max_bytes)

    def delete(self, path: str) -> None:
        from domiland.transports.ftp import DomilandFTPHook

        with DomilandFTPHook(self.settings) as hook:
            hook.delete_file(path)

    def label(self, path: str) -> str:
        return path


class UrlSource:
    """Feeds over HTTP(S) through the SSRF-guarded fetcher; nothing to delete."""

    def fetch(self, path: str, out: BinaryIO, max_bytes: int) -> None:
        from domiland.transports.http import fetch_url

        fetch_url(path, out, max_bytes=max_bytes)

    def delete(self, path: str) -> None:
        raise NotImplementedError("files fetched by URL cannot be deleted after reading")

    def label(self, path: str) -> str:
        from domiland.transports.http import mask_url

        return mask_url(path)
