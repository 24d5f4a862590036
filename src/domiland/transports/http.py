"""HTTP(S) transport of the hub: SSRF-guarded, size-capped, deadline-bounded downloads with httpx.

Used by the URL import method (IMP-1: news and showcase feeds); the SSRF guard
and the pinned transport are meant to be reused by webhooks (WH-3, WH-9) and
developer-IS calls.

SSRF guard (WH-9) and DNS rebinding
-----------------------------------
:func:`vet_url` resolves the URL's host **once** (:func:`resolve_host`, the one
place that asks DNS — tests monkeypatch it) and refuses the URL unless at least
one resolved address is public: loopback, private (RFC 1918, IPv6 ULA),
link-local, multicast, reserved, unspecified, CGNAT (100.64.0.0/10), IPv6
site-local, and IPv6 forms that embed such an IPv4 address (IPv4-mapped, 6to4,
NAT64) are refused unless the operator allowed them
(``DOMILAND_ALLOWED_PRIVATE_HOSTS``: comma list of host names, addresses and
CIDRs; a listed host name is trusted whatever it resolves to). Only the
acceptable addresses are kept in the returned :class:`VettedTarget`.

The request then goes through :class:`PinnedTransport`, an ``httpx.HTTPTransport``
whose httpcore connection pool uses :class:`PinnedBackend` as its network
backend. httpcore asks its backend to ``connect_tcp(host, port)`` with the host
*name* of the URL; the pinned backend looks that (host, port) up among the
vetted targets and opens the TCP connection to the vetted IP instead — it never
resolves anything, and refuses any (host, port) it was not given. Because the
URL keeps the host name, everything above the socket is unchanged: the ``Host``
header, the TLS SNI and the certificate check (``check_hostname`` against the
name) all use the host name, exactly as without pinning. So the address that
was checked is the address connected to; a DNS answer that changes between the
check and the connect (rebinding) cannot redirect the request.

Alternatives considered: putting the IP into the URL and passing
``extensions={"sni_hostname": host}`` plus a ``Host`` header also works with
httpcore, but every URL, redirect base and error message then carries the IP,
and forgetting one of the two overrides silently breaks certificate checks.
``local_address`` only chooses the *source* address and does not help.
Replacing ``HTTPTransport._pool`` relies on one private attribute of httpx
(0.28/0.29); the tests connect to a name that real DNS cannot resolve, so an
httpx upgrade that breaks this fails them loudly.

Redirects are followed here, not by httpx (it does not follow them by
default): at most :data:`MAX_REDIRECTS`, each hop vetted again and connected
through its own pinned transport; basic-auth credentials from the URL are sent
only to the URL's own origin (scheme, host and port). Proxies from the
environment are never used (a proxy would resolve names itself).

Failures are :class:`HttpFetchError` subclasses (all ``TransportError``); every
message names the URL with credentials masked, the reason and the next step.

Settings (environment, read per call): ``DOMILAND_HTTP_TIMEOUT`` (connect and
each read, seconds, default 30), ``DOMILAND_HTTP_DEADLINE`` (whole download
including redirects, default 600), ``DOMILAND_HTTP_CA_FILE`` (extra CA bundle
trusted in addition to the system and certifi roots),
``DOMILAND_ALLOWED_PRIVATE_HOSTS``.

Compressed responses (gzip/deflate) are decoded by httpx and the *decoded*
bytes are counted against ``max_bytes``; one decoded network chunk is held in
memory before it is counted (at most ~64 KiB × the compression ratio).
"""
from __future__ import annotations

import ipaddress
import os
import re
import socket
import ssl
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import httpcore
import httpx

from domiland.transports.errors import TransportError

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_TIMEOUT = 30.0
DEFAULT_DEADLINE = 600.0
USER_AGENT = "Domiland-Hub/0.1"
_EXCERPT_BYTES = 4096
_EXCERPT_CHARS = 200
_MAX_ADDRESSES = 4
"""At most this many vetted addresses of one host are tried, in resolver order."""

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


# --------------------------------------------------------------------------- errors


class HttpFetchError(TransportError):
    """Any failure of an HTTP(S) fetch; ``url`` is the masked URL it concerns."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class InvalidUrl(HttpFetchError):
    """The address is not an http(s) URL with a host."""


class SsrfRefused(HttpFetchError):
    """The host resolves only to addresses the SSRF guard refuses (WH-9)."""


class HttpConnectError(HttpFetchError):
    """DNS failure, connection refused or dropped."""


class HttpTlsError(HttpConnectError):
    """The TLS handshake failed or the certificate could not be verified."""


class HttpTimeout(HttpFetchError):
    """Connect, a read, or the whole download took too long."""


class HttpStatusError(HttpFetchError):
    """The server answered with a non-2xx status (``status``; ``excerpt`` of the body)."""

    def __init__(self, message: str, *, url: str | None = None, status: int = 0, excerpt: str = "") -> None:
        super().__init__(message, url=url)
        self.status = status
        self.excerpt = excerpt


class RedirectError(HttpFetchError):
    """A redirect without a usable ``Location``, or a redirect loop."""


class TooManyRedirects(RedirectError):
    """More than :data:`MAX_REDIRECTS` redirects."""


class ResponseTooLarge(HttpFetchError):
    """The body is (or announces to be) larger than ``max_bytes``."""


# --------------------------------------------------------------------------- settings and helpers


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = DEFAULT_TIMEOUT
    deadline: float = DEFAULT_DEADLINE
    ca_file: str | None = None
    allowed_private_hosts: str = ""


def http_settings() -> HttpSettings:
    """Read the environment now (cheap; tests change it between cases)."""
    return HttpSettings(
        timeout=float(os.environ.get("DOMILAND_HTTP_TIMEOUT") or DEFAULT_TIMEOUT),
        deadline=float(os.environ.get("DOMILAND_HTTP_DEADLINE") or DEFAULT_DEADLINE),
        ca_file=os.environ.get("DOMILAND_HTTP_CA_FILE") or None,
        allowed_private_hosts=os.environ.get("DOMILAND_ALLOWED_PRIVATE_HOSTS", ""),
    )


_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#]*)@")


def mask_url(url: str | httpx.URL) -> str:
    """The URL with any user name and password replaced by ``***`` (WH-6), for messages and logs."""
    return _USERINFO.sub(lambda m: m["scheme"] + ("***:***@" if ":" in m["userinfo"] else "***@"), str(url), count=1)


_DROPBOX_HOSTS = frozenset({"www.dropbox.com", "dropbox.com"})


def dropbox_direct_url(url: str) -> str:
    """A Dropbox share link with ``dl=1`` (the file itself, not the preview page; IMP-1); other URLs unchanged.

    ``dl=0`` is replaced, a missing ``dl`` is added; the rest of the URL is kept byte for byte.
    """
    match = re.match(r"^(?P<head>https?://(?:[^/?#@]*@)?(?P<host>[^/?#:]+)(?::\d+)?[^?#]*)"
                     r"(?:\?(?P<query>[^#]*))?(?P<fragment>#.*)?$", url.strip(), re.IGNORECASE)
    if not match or match["host"].lower().rstrip(".") not in _DROPBOX_HOSTS:
        return url
    parts = [p for p in (match["query"] or "").split("&") if p]
    out, placed = [], False
    for part in parts:
        if part.split("=", 1)[0] == "dl":
            if not placed:
                out.append("dl=1")
                placed = True
            continue
        out.append(part)
    if not placed:
        out.append("dl=1")
    return f"{match['head']}?{'&'.join(out)}{match['fragment'] or ''}"


def build_ssl_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Verifying client context: system roots + certifi (+ ``ca_file``); hostname checked, TLS ≥ 1.2."""
    try:
        import certifi

        ctx = ssl.create_default_context(cafile=certifi.where())
        ctx.load_default_certs()
    except ImportError:  # pragma: no cover - certifi comes with httpx
        ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise HttpTlsError(f"Cannot load the CA bundle {ca_file!r} (DOMILAND_HTTP_CA_FILE): {exc}. "
                               "Point DOMILAND_HTTP_CA_FILE at a readable PEM file or unset it.") from None
    return ctx


# --------------------------------------------------------------------------- SSRF guard


def address_problem(address: IpAddress) -> str | None:
    """Why connecting to ``address`` is refused by default (e.g. ``"loopback"``), or ``None`` if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner:
                return f"IPv6 form of a {inner} IPv4 address ({embedded})"
        if address.is_site_local:
            return "IPv6 site-local"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("carrier-grade NAT (100.64.0.0/10)", isinstance(address, ipaddress.IPv4Address) and address in _CGNAT),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-global", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


@dataclass(frozen=True)
class AllowList:
    """Hosts, addresses and networks an operator allowed despite being private (WH-9)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, entries: str | Iterable[str] | AllowList | None) -> AllowList:
        """From ``"127.0.0.1, 10.0.0.0/8, feeds.internal"`` or an iterable of such entries."""
        if isinstance(entries, AllowList):
            return entries
        if entries is None:
            return cls()
        if isinstance(entries, str):
            entries = entries.split(",")
        hosts, networks = set(), []
        for raw in entries:
            entry = raw.strip().strip("[]")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    @classmethod
    def from_env(cls) -> AllowList:
        return cls.parse(http_settings().allowed_private_hosts)

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IpAddress) -> bool:
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            candidates.append(address.ipv4_mapped)
        return any(a.version == n.version and a in n for a in candidates for n in self.networks)


@dataclass(frozen=True)
class VettedTarget:
    """Where a request may go: the URL (without credentials) and the addresses checked for it."""

    url: httpx.URL
    host: str
    """ASCII host as httpcore passes it to the backend (IDNA-encoded; IPv6 without brackets)."""
    port: int
    ips: tuple[str, ...]
    """Acceptable addresses in resolver order; connections go to these and nowhere else."""
    allowed_private: bool = False
    """At least one address is non-public and was accepted through the allow-list."""

    @property
    def ip(self) -> str:
        return self.ips[0]

    @property
    def scheme(self) -> str:
        return self.url.scheme

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.url.scheme, self.host, self.port


def resolve_host(host: str, port: int) -> list[str]:
    """All addresses of ``host`` (the only DNS lookup of this module; tests replace it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for *_, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


def parse_url(url: str | httpx.URL) -> httpx.URL:
    """Parse and check an http(s) URL with a host; raise :class:`InvalidUrl`."""
    text = str(url).strip()
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise InvalidUrl(f"Invalid address {mask_url(text)!r}: {exc}. Enter a full http:// or https:// URL.",
                         url=mask_url(text)) from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidUrl(f"Unsupported address {mask_url(text)!r}: only http:// and https:// URLs can be fetched. "
                         "Enter a full http:// or https:// URL.", url=mask_url(text))
    if not parsed.host:
        raise InvalidUrl(f"Invalid address {mask_url(text)!r}: no host name. Enter a full http:// or https:// URL.",
                         url=mask_url(text))
    return parsed


def vet_url(url: str | httpx.URL, allow_hosts: str | Iterable[str] | AllowList | None = None) -> VettedTarget:
    """Resolve the URL's host once and keep only addresses the SSRF guard accepts (WH-9).

    ``allow_hosts`` is the operator's allow-list (``None``: ``DOMILAND_ALLOWED_PRIVATE_HOSTS``).
    Raises :class:`InvalidUrl`, :class:`HttpConnectError` (the name does not resolve) or
    :class:`SsrfRefused` (every address is non-public and not allowed).
    """
    parsed = parse_url(url)
    allow = AllowList.from_env() if allow_hosts is None else AllowList.parse(allow_hosts)
    clean = parsed.copy_with(userinfo=b"", fragment=None)
    shown = mask_url(parsed)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [host]
    else:
        try:
            addresses = resolve_host(host, port)
        except (OSError, UnicodeError) as exc:
            raise HttpConnectError(f"Cannot resolve host {host!r} of {shown}: {exc}. "
                                   "Check the address in the block settings.", url=shown) from None
        if not addresses:
            raise HttpConnectError(f"Host {host!r} of {shown} has no addresses. Check the address.", url=shown)
    host_allowed = literal is None and allow.allows_host(host)
    accepted: list[str] = []
    refused: list[str] = []
    allowed_private = False
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            refused.append(f"{text} (not an IP address)")
            continue
        problem = address_problem(address)
        if problem is None:
            accepted.append(text)
        elif host_allowed or allow.allows_address(address):
            accepted.append(text)
            allowed_private = True
        else:
            refused.append(f"{text} ({problem})")
    if not accepted:
        raise SsrfRefused(
            f"Refused to connect to {shown}: {host} resolves only to non-public addresses "
            f"[{', '.join(refused)}] (SSRF protection, WH-9). Use a public address, or ask an operator to add "
            f"the host or network to DOMILAND_ALLOWED_PRIVATE_HOSTS.", url=shown)
    return VettedTarget(url=clean, host=host, port=port, ips=tuple(accepted[:_MAX_ADDRESSES]),
                        allowed_private=allowed_private)


class PinnedBackend(httpcore.SyncBackend):
    """An httpcore network backend that connects only to vetted addresses, never resolving names itself."""

    def __init__(self, targets: Iterable[VettedTarget]) -> None:
        self._pins: dict[tuple[str, int], tuple[str, ...]] = {}
        for target in targets:
            self.pin(target)
        self.connections: list[tuple[str, int, str]] = []
        """(host, port, IP) of every connection opened, for logs and tests."""

    def pin(self, target: VettedTarget) -> None:
        self._pins[(target.host.lower(), target.port)] = target.ips

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        ips = self._pins.get((host.lower(), port))
        if not ips:
            raise httpcore.ConnectError(f"{host}:{port} was not vetted by the SSRF guard; refusing to connect")
        last: Exception | None = None
        for ip in ips:
            try:
                stream = super().connect_tcp(ip, port, timeout=timeout, local_address=local_address,
                                             socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            self.connections.append((host, port, ip))
            return stream
        assert last is not None
        raise last

    def connect_unix_socket(self, *args, **kwargs):  # pragma: no cover - never pinned
        raise httpcore.ConnectError("unix sockets are not allowed through the SSRF guard")


class PinnedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections go to the vetted IPs of its targets (see module docstring)."""

    def __init__(self, targets: Iterable[VettedTarget], *, ssl_context: ssl.SSLContext | None = None,
                 limits: httpx.Limits = httpx.Limits(max_connections=4, max_keepalive_connections=0)) -> None:
        ctx = ssl_context or build_ssl_context(http_settings().ca_file)
        super().__init__(verify=ctx, trust_env=False, limits=limits)
        self.backend = PinnedBackend(targets)
        self._pool = httpcore.ConnectionPool(  # the one private attribute we rely on (httpx 0.28/0.29)
            ssl_context=ctx, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            http1=True, http2=False, network_backend=self.backend)


def pinned_client(target: VettedTarget, *, timeout: float | httpx.Timeout,
                  ssl_context: ssl.SSLContext | None = None, headers: Mapping[str, str] | None = None) -> httpx.Client:
    """An httpx client that reaches only ``target`` (at its vetted IPs), ignores proxies and never follows redirects.

    For webhooks and developer-IS calls: ``client.post(target.url, ...)``; vet every new URL again.
    """
    return httpx.Client(transport=PinnedTransport([target], ssl_context=ssl_context), trust_env=False,
                        follow_redirects=False, timeout=timeout,
                        headers={"User-Agent": USER_AGENT, **(headers or {})})


# --------------------------------------------------------------------------- fetch


@dataclass(frozen=True)
class Hop:
    url: str
    """Masked URL requested."""
    status: int
    ip: str | None
    """Address the connection actually went to (from the socket)."""


@dataclass(frozen=True)
class FetchResult:
    url: str
    """The requested URL (masked, after the Dropbox rewrite)."""
    final_url: str
    """The URL that answered 2xx (masked)."""
    status: int
    content_type: str | None
    bytes: int
    hops: tuple[Hop, ...] = field(default=())
    elapsed: float = 0.0


def fetch_url(url: str, out: BinaryIO, *, max_bytes: int, timeout: float | None = None,
              allow_hosts: str | Iterable[str] | AllowList | None = None, deadline: float | None = None,
              headers: Mapping[str, str] | None = None, ca_file: str | None = None) -> FetchResult:
    """GET ``url`` and stream the body into ``out``; raise an :class:`HttpFetchError` subclass on any failure.

    ``timeout`` bounds connecting and each read (default ``DOMILAND_HTTP_TIMEOUT``, 30 s); ``deadline`` the whole
    download including redirects (default ``DOMILAND_HTTP_DEADLINE``, 600 s). ``max_bytes`` caps the body:
    a larger ``Content-Length`` is refused before reading, and the bytes are counted while streaming.
    ``allow_hosts`` overrides ``DOMILAND_ALLOWED_PRIVATE_HOSTS``; ``ca_file`` overrides ``DOMILAND_HTTP_CA_FILE``.
    On failure ``out`` may hold a partial body, which the caller must discard.
    """
    settings = http_settings()
    timeout = settings.timeout if timeout is None else float(timeout)
    deadline = settings.deadline if deadline is None else float(deadline)
    allow = AllowList.parse(settings.allowed_private_hosts if allow_hosts is None else allow_hosts)
    started = time.monotonic()
    ends = started + deadline

    requested = dropbox_direct_url(url.strip())
    original = parse_url(requested)
    shown_original = mask_url(requested)
    credentials = (original.username, original.password) if (original.username or original.password) else None
    ssl_context = build_ssl_context(ca_file or settings.ca_file)
    request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", "Accept": "*/*",
                       **(headers or {})}

    current = original
    visited: set[str] = set()
    hops: list[Hop] = []
    origin = None
    for _hop in range(MAX_REDIRECTS + 1):
        target = vet_url(current, allow)
        if origin is None:
            origin = target.origin
        shown = mask_url(current)
        key = str(target.url)
        if key in visited:
            raise RedirectError(f"Redirect loop fetching {shown_original}: {shown} was already visited "
                                f"(chain: {' → '.join(h.url for h in hops)} → {shown}). "
                                "Ask the publisher to fix the address, or enter the final address.", url=shown)
        visited.add(key)
        remaining = ends - time.monotonic()
        if remaining <= 0:
            raise _deadline_error(shown_original, deadline)
        auth = None
        if target.origin == origin and credentials:
            auth = httpx.BasicAuth(*credentials)
        elif current.username or current.password:  # credentials written into a redirect's own Location
            auth = httpx.BasicAuth(current.username, current.password)
        step_timeout = httpx.Timeout(min(timeout, remaining))
        with _errors(shown, timeout, target), \
                httpx.Client(transport=PinnedTransport([target], ssl_context=ssl_context), trust_env=False,
                             follow_redirects=False, timeout=step_timeout) as client, \
                client.stream("GET", target.url, headers=request_headers, auth=auth) as response:
            ip = _peer_ip(response)
            hops.append(Hop(url=shown, status=response.status_code, ip=ip))
            if response.status_code in REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    raise RedirectError(f"HTTP {response.status_code} redirect without a Location header from "
                                        f"{shown}. Ask the publisher to fix the server.", url=shown)
                try:
                    current = parse_url(target.url.join(location.strip()))
                except (InvalidUrl, httpx.InvalidURL) as exc:
                    raise RedirectError(f"{shown} redirects to an unusable address: {exc}", url=shown) from None
                continue
            if not 200 <= response.status_code < 300:
                excerpt = _excerpt(response)
                raise HttpStatusError(
                    f"HTTP {response.status_code} {response.reason_phrase} from {shown}"
                    + (f": {excerpt!r}" if excerpt else "") + ". " + _status_hint(response.status_code),
                    url=shown, status=response.status_code, excerpt=excerpt)
            announced = response.headers.get("content-length")
            if announced and announced.strip().isdigit() and int(announced) > max_bytes:
                raise ResponseTooLarge(
                    f"{shown} announces {int(announced)} bytes (Content-Length), more than the limit of {max_bytes} "
                    "bytes; nothing was downloaded. Ask the publisher to shrink the feed, or raise "
                    "DOMILAND_MAX_FILE_BYTES.", url=shown)
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise ResponseTooLarge(
                        f"{shown} sent more than the limit of {max_bytes} bytes; the download was stopped. "
                        "Ask the publisher to shrink the feed, or raise DOMILAND_MAX_FILE_BYTES.", url=shown)
                out.write(chunk)
                if time.monotonic() > ends:
                    raise _deadline_error(shown, deadline)
            return FetchResult(url=shown_original, final_url=shown, status=response.status_code,
                               content_type=response.headers.get("content-type"), bytes=received, hops=tuple(hops),
                               elapsed=time.monotonic() - started)
    raise TooManyRedirects(f"More than {MAX_REDIRECTS} redirects fetching {shown_original} "
                           f"(chain: {' → '.join(h.url for h in hops)}). "
                           "Enter the final address of the feed, or ask the publisher to fix the redirects.",
                           url=shown_original)


def _deadline_error(shown: str, deadline: float) -> HttpTimeout:
    return HttpTimeout(f"Downloading {shown} took longer than {deadline:g} s (whole-download deadline); stopped. "
                       "The server is too slow or the file too big; try again later or raise "
                       "DOMILAND_HTTP_DEADLINE.", url=shown)


def _peer_ip(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    try:
        peer = stream.get_extra_info("server_addr") if stream is not None else None
    except OSError:
        return None
    return str(peer[0]) if peer else None


def _excerpt(response: httpx.Response) -> str:
    raw = b""
    try:
        for chunk in response.iter_bytes():
            raw += chunk
            if len(raw) >= _EXCERPT_BYTES:
                break
    except httpx.HTTPError:
        pass
    text = raw[:_EXCERPT_BYTES].decode(response.encoding or "utf-8", errors="replace")
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else "")


def _status_hint(status: int) -> str:
    if status in (401, 403):
        return "Check the user name and password in the address, or ask the publisher for access."
    if status in (404, 410):
        return "Check the address in the block settings; the feed may have moved."
    if status == 429 or status >= 500:
        return "The server has a problem; the next run will try again, or ask the publisher."
    return "Check the address in the block settings, or ask the publisher."


class _errors:
    """Translate httpx/httpcore exceptions into :class:`HttpFetchError` subclasses with a masked URL."""

    def __init__(self, shown: str, timeout: float, target: VettedTarget) -> None:
        self.shown, self.timeout, self.target = shown, timeout, target

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, HttpFetchError) or not isinstance(exc, (httpx.HTTPError, OSError)):
            return False
        shown, where = self.shown, f"{self.target.host}:{self.target.port} ({', '.join(self.target.ips)})"
        if isinstance(exc, httpx.TimeoutException):
            phase = {httpx.ConnectTimeout: "connecting", httpx.ReadTimeout: "waiting for data",
                     httpx.WriteTimeout: "sending", httpx.PoolTimeout: "waiting for a connection"}.get(type(exc), "")
            raise HttpTimeout(f"Timed out after {self.timeout:g} s {phase} fetching {shown} from {where}. The server "
                              "is slow or unreachable; the next run will try again, or raise DOMILAND_HTTP_TIMEOUT.",
                              url=shown) from None
        detail = _root_cause(exc)
        if isinstance(detail, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            raise HttpTlsError(f"TLS with {where} failed for {shown}: {detail}. Check the address; if the server "
                               "uses a private CA, set DOMILAND_HTTP_CA_FILE.", url=shown) from None
        if isinstance(exc, httpx.ConnectError):
            raise HttpConnectError(f"Cannot connect to {where} for {shown}: {detail}. Check the address and that "
                                   "the server is up; the next run will try again.", url=shown) from None
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.NetworkError)):
            raise HttpConnectError(f"The connection to {where} broke while fetching {shown}: {detail}. "
                                   "The next run will try again.", url=shown) from None
        if isinstance(exc, httpx.DecodingError):
            raise HttpFetchError(f"Cannot decode the compressed response of {shown}: {detail}. "
                                 "Ask the publisher to check the server's compression.", url=shown) from None
        raise HttpFetchError(f"Fetching {shown} failed: {type(exc).__name__}: {detail}.", url=shown) from None


def _root_cause(exc: BaseException) -> BaseException:
    seen: Sequence[BaseException] = []
    while True:
        nxt = exc.__cause__ or exc.__context__
        if nxt is None or nxt in seen:
            return exc
        seen = [*seen, exc]
        exc = nxt
