"""The HTTP(S) transport against a real HTTPS server: SSRF guard, pinned connections, redirects, caps, timeouts."""
from __future__ import annotations

import base64
import gzip
import io
import ipaddress
import socket
import time

import pytest

from domiland.transports import http
from domiland.transports.errors import TransportError
from domiland.transports.http import (
    AllowList,
    HttpConnectError,
    HttpFetchError,
    HttpStatusError,
    HttpTimeout,
    HttpTlsError,
    InvalidUrl,
    RedirectError,
    ResponseTooLarge,
    SsrfRefused,
    TooManyRedirects,
    address_problem,
    dropbox_direct_url,
    fetch_url,
    mask_url,
    vet_url,
)
from tests.fixtures.https import TEST_HOSTNAME, HttpsTestServer

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
SECRET = "S3cret-пароль"


@pytest.fixture(autouse=True)
def http_env(https_server: HttpsTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust the test CA; nothing private allowed unless a test says so."""
    monkeypatch.setenv("DOMILAND_HTTP_CA_FILE", https_server.ca_file)
    monkeypatch.delenv("DOMILAND_ALLOWED_PRIVATE_HOSTS", raising=False)
    monkeypatch.delenv("DOMILAND_HTTP_TIMEOUT", raising=False)
    monkeypatch.delenv("DOMILAND_HTTP_DEADLINE", raising=False)


class FakeDns:
    """Replaces ``http.resolve_host``: answers from a table and records every question."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = self.table[host]
        return list(answer() if callable(answer) else answer)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns({TEST_HOSTNAME: ["127.0.0.1"], "mirror.domiland.test": ["127.0.0.1"],
                    "not-in-cert.domiland.test": ["127.0.0.1"]})
    monkeypatch.setattr(http, "resolve_host", fake)
    return fake


def fetch(url: str, **kwargs) -> tuple[bytes, http.FetchResult]:
    out = io.BytesIO()
    kwargs.setdefault("max_bytes", 1_000_000)
    result = fetch_url(url, out, **kwargs)
    return out.getvalue(), result


def failure(url: str, expected: type[HttpFetchError], **kwargs) -> str:
    with pytest.raises(expected) as caught:
        fetch(url, **kwargs)
    assert isinstance(caught.value, TransportError)
    return str(caught.value)


# --------------------------------------------------------------------------- basics


def test_downloads_over_verified_https(https_server):
    https_server.route("/feed.xml", FEED, content_type="application/rss+xml")
    body, result = fetch(https_server.url("/feed.xml"), allow_hosts="127.0.0.1")
    assert body == FEED
    assert (result.status, result.bytes, result.content_type) == (200, len(FEED), "application/rss+xml")
    assert result.hops == (http.Hop(https_server.url("/feed.xml"), 200, "127.0.0.1"),)


def test_allow_list_comes_from_the_environment(https_server, monkeypatch):
    https_server.route("/feed.xml", FEED)
    monkeypatch.setenv("DOMILAND_ALLOWED_PRIVATE_HOSTS", "10.0.0.0/8, 127.0.0.0/8")
    assert fetch(https_server.url("/feed.xml"))[0] == FEED


def test_gzip_response_is_decoded(https_server):
    https_server.route("/feed.xml", gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    assert fetch(https_server.url("/feed.xml"), allow_hosts="127.0.0.1")[0] == FEED


def test_certificate_from_an_unknown_ca_is_refused(https_server, monkeypatch):
    https_server.route("/feed.xml", FEED)
    monkeypatch.delenv("DOMILAND_HTTP_CA_FILE")
    message = failure(https_server.url("/feed.xml"), HttpTlsError, allow_hosts="127.0.0.1")
    assert "certificate verify failed" in message.lower() and "DOMILAND_HTTP_CA_FILE" in message
    assert https_server.requests == []


def test_unreadable_ca_file_is_a_clear_error(https_server, monkeypatch, tmp_path):
    monkeypatch.setenv("DOMILAND_HTTP_CA_FILE", str(tmp_path / "missing.pem"))
    message = failure(https_server.url("/feed.xml"), HttpTlsError, allow_hosts="127.0.0.1")
    assert "missing.pem" in message and "DOMILAND_HTTP_CA_FILE" in message


@pytest.mark.parametrize("url", ["ftp://example.com/feed.xml", "file:///etc/passwd", "gopher://x/", "feed.xml",
                                 "https://", "https://[zz]/"])
def test_only_http_and_https_urls(url):
    assert "http" in failure(url, InvalidUrl)


def test_connection_refused_is_a_connect_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = failure(f"https://127.0.0.1:{port}/feed.xml", HttpConnectError, allow_hosts="127.0.0.1")
    assert f"127.0.0.1:{port}" in message and "Cannot connect" in message


def test_unknown_host_is_a_connect_error(dns):
    message = failure("https://nowhere.domiland.test/feed.xml", HttpConnectError)
    assert "Cannot resolve host 'nowhere.domiland.test'" in message


# --------------------------------------------------------------------------- SSRF guard and pinning


def test_connects_to_the_vetted_ip_using_the_hostname_for_host_sni_and_certificate(https_server, dns, monkeypatch):
    """The name is resolved once, by the guard; the socket goes to that address; TLS and Host use the name."""
    answers = iter([["127.0.0.1"]])
    dns.table[TEST_HOSTNAME] = lambda: next(answers, ["203.0.113.7"])  # a second lookup would "rebind"
    system_lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def spy(host, *args, **kwargs):
        system_lookups.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    https_server.route("/feed.xml", FEED)

    body, result = fetch(https_server.url("/feed.xml", host=TEST_HOSTNAME), allow_hosts="127.0.0.1")

    assert body == FEED
    assert dns.calls == [TEST_HOSTNAME]  # one resolution, by the guard
    assert TEST_HOSTNAME not in system_lookups  # nobody else asked DNS for the name
    assert result.hops[0].ip == "127.0.0.1"  # the peer address of the socket that answered
    seen = https_server.requests[0]
    assert seen.headers["host"] == f"{TEST_HOSTNAME}:{https_server.port}"
    assert seen.sni == TEST_HOSTNAME
    assert seen.server_address == "127.0.0.1"


def test_certificate_is_checked_against_the_hostname_not_the_ip(https_server, dns):
    https_server.route("/feed.xml", FEED)
    message = failure(https_server.url("/feed.xml", host="not-in-cert.domiland.test"), HttpTlsError,
                      allow_hosts="127.0.0.1")
    assert "not-in-cert.domiland.test" in message


def test_guard_runs_on_every_hop(https_server, dns, monkeypatch):
    vetted: list[str] = []
    real_vet = http.vet_url

    def spy(url, allow_hosts=None):
        target = real_vet(url, allow_hosts)
        vetted.append(f"{target.host} -> {target.ip}")
        return target

    monkeypatch.setattr(http, "vet_url", spy)
    https_server.redirect("/a", https_server.url("/b", host="mirror.domiland.test"))
    https_server.redirect("/b", "/c", status=301)
    https_server.route("/c", FEED)

    body, result = fetch(https_server.url("/a", host=TEST_HOSTNAME), allow_hosts="127.0.0.1")

    assert body == FEED
    assert vetted == [f"{TEST_HOSTNAME} -> 127.0.0.1", "mirror.domiland.test -> 127.0.0.1",
                      "mirror.domiland.test -> 127.0.0.1"]
    assert dns.calls == [TEST_HOSTNAME, "mirror.domiland.test", "mirror.domiland.test"]
    assert [(h.status, h.ip) for h in result.hops] == [(302, "127.0.0.1"), (301, "127.0.0.1"), (200, "127.0.0.1")]
    assert result.final_url == https_server.url("/c", host="mirror.domiland.test")
    assert [r.sni for r in https_server.requests] == [TEST_HOSTNAME, "mirror.domiland.test", "mirror.domiland.test"]


def test_redirect_to_a_loopback_address_is_refused_when_not_allowed(https_server, dns):
    # The feed's host name is allowed (it maps to 127.0.0.1 here), the bare address is not.
    https_server.redirect("/start", https_server.url("/feed.xml"))
    https_server.route("/feed.xml", FEED)
    message = failure(https_server.url("/start", host=TEST_HOSTNAME), SsrfRefused, allow_hosts=[TEST_HOSTNAME])
    assert "127.0.0.1 (loopback)" in message and "DOMILAND_ALLOWED_PRIVATE_HOSTS" in message
    assert [r.path for r in https_server.requests] == ["/start"]  # /feed.xml was never requested


@pytest.mark.parametrize("location", ["http://169.254.169.254/latest/meta-data/", "https://10.1.2.3/x",
                                      "http://[::ffff:192.168.0.1]/", "http://100.64.0.1/", "https://[fd00::1]/"])
def test_redirect_to_internal_addresses_is_refused(https_server, location):
    https_server.redirect("/start", location)
    message = failure(https_server.url("/start"), SsrfRefused, allow_hosts="127.0.0.1")
    assert "SSRF" in message


def test_hostname_resolving_to_loopback_is_refused_unless_allowed(https_server):
    https_server.route("/feed.xml", FEED)
    url = https_server.url("/feed.xml", host="localhost")  # real resolver: 127.0.0.1 (and maybe ::1)
    message = failure(url, SsrfRefused, allow_hosts="")
    assert "localhost resolves only to non-public addresses" in message and "loopback" in message
    assert https_server.requests == []
    assert fetch(url, allow_hosts=["localhost"])[0] == FEED  # by name
    assert fetch(url, allow_hosts="127.0.0.1")[0] == FEED  # by address: only 127.0.0.1 is kept
    assert {r.sni for r in https_server.requests} == {"localhost"}


def test_ip_literal_is_vetted_too(https_server):
    https_server.route("/feed.xml", FEED)
    assert "127.0.0.1 (loopback)" in failure(https_server.url("/feed.xml"), SsrfRefused, allow_hosts="")
    assert "non-public" in failure(f"http://2130706433:{https_server.port}/", SsrfRefused, allow_hosts="")


def test_vet_url_keeps_only_acceptable_addresses(dns):
    dns.table["mixed.example.test"] = ["10.0.0.7", "93.184.216.34", "127.0.0.1"]
    target = vet_url("https://user:pw@mixed.example.test/feed?x=1#top", allow_hosts="")
    assert target.ips == ("93.184.216.34",) and not target.allowed_private
    assert (target.host, target.port, str(target.url)) == ("mixed.example.test", 443,
                                                            "https://mixed.example.test/feed?x=1")
    assert vet_url("http://mixed.example.test/", allow_hosts="10.0.0.0/8").ips == ("10.0.0.7", "93.184.216.34")
    assert vet_url("http://mixed.example.test/", allow_hosts="mixed.example.test").ips == (
        "10.0.0.7", "93.184.216.34", "127.0.0.1")


@pytest.mark.parametrize("address, problem", [
    ("127.0.0.1", "loopback"), ("10.1.1.1", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"),
    ("100.64.0.1", "carrier-grade NAT"), ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"),
    ("198.18.0.1", "private"), ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"),
    ("fd12:3456::1", "private"), ("fec0::1", "site-local"), ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "IPv6 form of a loopback"), ("2002:a00:1::", "IPv6 form of a private"),
    ("64:ff9b::a00:1", "IPv6 form of a private"),
    ("8.8.8.8", None), ("93.184.216.34", None), ("2a00:1450:4010:c0e::64", None),
])
def test_address_classification(address, problem):
    found = address_problem(ipaddress.ip_address(address))
    assert (found is None) if problem is None else (problem in found), found


def test_allow_list_parsing():
    allow = AllowList.parse(" 127.0.0.1, 10.0.0.0/8 ,Feeds.Internal., [::1], ")
    assert allow.hosts == frozenset({"feeds.internal"})
    assert allow.allows_host("FEEDS.internal")
    assert allow.allows_address(ipaddress.ip_address("10.9.8.7"))
    assert allow.allows_address(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert allow.allows_address(ipaddress.ip_address("::1"))
    assert not allow.allows_address(ipaddress.ip_address("192.168.0.1"))


def test_pinned_backend_refuses_unvetted_hosts(dns):
    import httpcore

    backend = http.PinnedBackend([vet_url(f"https://{TEST_HOSTNAME}/", allow_hosts="127.0.0.1")])
    with pytest.raises(httpcore.ConnectError, match="not vetted"):
        backend.connect_tcp("mirror.domiland.test", 443)
    with pytest.raises(httpcore.ConnectError, match="not vetted"):
        backend.connect_tcp(TEST_HOSTNAME, 8443)


# --------------------------------------------------------------------------- redirects


def test_redirect_loop_is_an_error(https_server):
    https_server.redirect("/a", "/b")
    https_server.redirect("/b", "/a")
    message = failure(https_server.url("/a"), RedirectError, allow_hosts="127.0.0.1")
    assert "Redirect loop" in message and "/a" in message and "/b" in message


def test_at_most_five_redirects(https_server):
    for n in range(6):
        https_server.redirect(f"/r{n}", f"/r{n + 1}", status=307)
    https_server.route("/r6", FEED)
    assert fetch(https_server.url("/r1"), allow_hosts="127.0.0.1")[0] == FEED  # five redirects: fine
    message = failure(https_server.url("/r0"), TooManyRedirects, allow_hosts="127.0.0.1")
    assert "More than 5 redirects" in message


def test_redirect_without_location_is_an_error(https_server):
    https_server.route("/a", b"", status=302)
    assert "without a Location" in failure(https_server.url("/a"), RedirectError, allow_hosts="127.0.0.1")


# --------------------------------------------------------------------------- statuses, size cap, timeouts


def test_server_error_names_status_and_body_excerpt(https_server):
    page = b"<html><head><style>p{}</style></head><body><h1>Internal Server Error</h1><p>DB is down</p></body></html>"
    https_server.route("/feed.xml", page, status=500, content_type="text/html")
    with pytest.raises(HttpStatusError) as caught:
        fetch(https_server.url("/feed.xml"), allow_hosts="127.0.0.1")
    assert caught.value.status == 500 and caught.value.excerpt == "Internal Server Error DB is down"
    assert str(caught.value).startswith(f"HTTP 500 Internal Server Error from {https_server.url('/feed.xml')}: "
                                        "'Internal Server Error DB is down'.")


def test_not_found(https_server):
    message = failure(https_server.url("/gone.xml"), HttpStatusError, allow_hosts="127.0.0.1")
    assert "HTTP 404" in message and "Check the address" in message


def test_content_length_over_the_cap_is_refused_before_reading(https_server):
    https_server.route("/big.xml", b"x" * 5000)
    out = io.BytesIO()
    with pytest.raises(ResponseTooLarge, match="announces 5000 bytes"):
        fetch_url(https_server.url("/big.xml"), out, max_bytes=4096, allow_hosts="127.0.0.1")
    assert out.getvalue() == b""


@pytest.mark.parametrize("chunked", [True, False])
def test_body_over_the_cap_without_content_length_is_stopped(https_server, chunked):
    if chunked:
        https_server.route("/big.xml", lambda: (b"x" * 1000 for _ in range(100)))
    else:
        https_server.route("/big.xml", b"x" * 100_000, content_length=False)
    out = io.BytesIO()
    with pytest.raises(ResponseTooLarge, match="sent more than the limit of 4096 bytes"):
        fetch_url(https_server.url("/big.xml"), out, max_bytes=4096, allow_hosts="127.0.0.1")
    assert len(out.getvalue()) <= 4096


def test_body_exactly_at_the_cap_is_fine(https_server):
    https_server.route("/feed.xml", lambda: [b"x" * 2048, b"y" * 2048])
    assert len(fetch(https_server.url("/feed.xml"), max_bytes=4096, allow_hosts="127.0.0.1")[0]) == 4096


def test_slow_server_times_out_quickly(https_server):
    https_server.route("/slow.xml", FEED, delay=10)
    started = time.monotonic()
    message = failure(https_server.url("/slow.xml"), HttpTimeout, allow_hosts="127.0.0.1", timeout=0.5)
    assert time.monotonic() - started < 3
    assert "Timed out after 0.5 s waiting for data" in message and "DOMILAND_HTTP_TIMEOUT" in message


def test_timeout_default_comes_from_the_environment(https_server, monkeypatch):
    https_server.route("/slow.xml", FEED, delay=10)
    monkeypatch.setenv("DOMILAND_HTTP_TIMEOUT", "0.3")
    started = time.monotonic()
    failure(https_server.url("/slow.xml"), HttpTimeout, allow_hosts="127.0.0.1")
    assert time.monotonic() - started < 3


def test_trickling_server_hits_the_whole_download_deadline(https_server):
    def trickle():
        for _ in range(100):
            time.sleep(0.1)
            yield b"<!-- still here -->"

    https_server.route("/trickle.xml", trickle)
    started = time.monotonic()
    message = failure(https_server.url("/trickle.xml"), HttpTimeout, allow_hosts="127.0.0.1", timeout=5, deadline=1)
    assert time.monotonic() - started < 3
    assert "whole-download deadline" in message


# --------------------------------------------------------------------------- credentials


def test_basic_auth_from_the_url_is_sent_and_masked_in_errors(https_server):
    https_server.route("/private.xml", FEED)
    body, result = fetch(https_server.url("/private.xml", userinfo=f"partner:{SECRET}"), allow_hosts="127.0.0.1")
    assert body == FEED
    expected = "Basic " + base64.b64encode(f"partner:{SECRET}".encode()).decode()
    assert https_server.requests[0].headers["authorization"] == expected
    assert SECRET not in repr(result) and "partner" not in repr(result)

    https_server.route("/denied.xml", b"Unauthorized", status=401)
    message = failure(https_server.url("/denied.xml", userinfo=f"partner:{SECRET}"), HttpStatusError,
                      allow_hosts="127.0.0.1")
    assert SECRET not in message and "partner" not in message
    assert f"https://***:***@127.0.0.1:{https_server.port}/denied.xml" in message


@pytest.mark.parametrize("error, url_path", [(SsrfRefused, "/feed.xml"), (HttpTimeout, "/slow.xml")])
def test_credentials_are_masked_in_every_kind_of_error(https_server, error, url_path):
    https_server.route("/slow.xml", FEED, delay=10)
    url = https_server.url(url_path, userinfo=f"partner:{SECRET}")
    allow = "" if error is SsrfRefused else "127.0.0.1"
    message = failure(url, error, allow_hosts=allow, timeout=0.3)
    assert SECRET not in message and "***:***@" in message


def test_credentials_are_not_sent_to_another_origin(https_server, dns):
    https_server.redirect("/a", "/b")  # same origin: keeps the credentials
    https_server.redirect("/b", https_server.url("/c", host="mirror.domiland.test"))
    https_server.route("/c", FEED)
    fetch(https_server.url("/a", host=TEST_HOSTNAME, userinfo=f"partner:{SECRET}"), allow_hosts="127.0.0.1")
    assert ["authorization" in r.headers for r in https_server.requests] == [True, True, False]


def test_mask_url():
    assert mask_url("https://user:p%40ss@example.com/x?y=1") == "https://***:***@example.com/x?y=1"
    assert mask_url("https://token@example.com/") == "https://***@example.com/"
    assert mask_url("https://a:b@c@example.com/") == "https://***:***@example.com/"
    assert mask_url("https://example.com/a@b") == "https://example.com/a@b"


# --------------------------------------------------------------------------- Dropbox


@pytest.mark.parametrize("url, expected", [
    ("https://www.dropbox.com/s/abc123/feed.xml?dl=0", "https://www.dropbox.com/s/abc123/feed.xml?dl=1"),
    ("https://www.dropbox.com/s/abc123/feed.xml", "https://www.dropbox.com/s/abc123/feed.xml?dl=1"),
    ("https://dropbox.com/s/abc123/feed.xml?dl=1", "https://dropbox.com/s/abc123/feed.xml?dl=1"),
    ("https://www.dropbox.com/scl/fi/xyz/news.xml?rlkey=k%2Bq&dl=0&st=9",
     "https://www.dropbox.com/scl/fi/xyz/news.xml?rlkey=k%2Bq&dl=1&st=9"),
    ("https://WWW.Dropbox.com/s/a/b.xml?dl=0&dl=0#frag", "https://WWW.Dropbox.com/s/a/b.xml?dl=1#frag"),
    ("https://www.dropbox.com/s/a/b.xml?x=1", "https://www.dropbox.com/s/a/b.xml?x=1&dl=1"),
    ("https://dl.dropboxusercontent.com/s/a/b.xml?dl=0", "https://dl.dropboxusercontent.com/s/a/b.xml?dl=0"),
    ("https://example.com/feed.xml?dl=0", "https://example.com/feed.xml?dl=0"),
    ("https://dropbox.com.evil.test/s/a?dl=0", "https://dropbox.com.evil.test/s/a?dl=0"),
])
def test_dropbox_share_links_get_dl_1(url, expected):
    assert dropbox_direct_url(url) == expected


def test_dropbox_rewrite_is_applied_before_fetching(monkeypatch):
    seen: list[str] = []

    def refuse(url, allow_hosts=None):
        seen.append(str(url))
        raise SsrfRefused("stop here")

    monkeypatch.setattr(http, "vet_url", refuse)
    with pytest.raises(SsrfRefused):
        fetch("https://www.dropbox.com/s/abc/feed.xml?dl=0")
    assert seen == ["https://www.dropbox.com/s/abc/feed.xml?dl=1"]
