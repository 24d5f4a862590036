"""URL imports end to end (IMP-1, IMP-10, WH-9): real HTTPS server → fetch → feed reader → loader → CRM tables."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from domiland.db.engine import session_scope
from domiland.db.migrate import upgrade
from domiland.db.models import DataType, ImportBlock, Method, NewsItem, Offer, OfferStatus
from domiland.exchange.imports import import_block
from domiland.transports import http
from tests.fixtures.https import TEST_HOSTNAME
from tests.formats.test_feeds import atom, atom_entry, offer, realty, rss, rss_item

SECRET = "Feed-Secret-42"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, hub_db, monkeypatch):
    url = hub_db if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    monkeypatch.setenv("DOMILAND_DB_URL", url)
    return url


@pytest.fixture(autouse=True)
def feed_env(https_server, monkeypatch):
    """Trust the test server's CA and allow its address, as an on-premise operator would."""
    monkeypatch.setenv("DOMILAND_HTTP_CA_FILE", https_server.ca_file)
    monkeypatch.setenv("DOMILAND_ALLOWED_PRIVATE_HOSTS", "127.0.0.1")
    monkeypatch.setenv("DOMILAND_HTTP_TIMEOUT", "5")


@pytest.fixture
def url_block(hub_db, make_org):
    """``make(data_type, paths)`` → id of a method-URL import block of a fresh organization."""
    orgs: dict[str, int] = {}

    def make(data_type: DataType, paths: str, org_code: str = "uk-feeds") -> int:
        if org_code not in orgs:
            orgs[org_code] = make_org(org_code)
        with session_scope() as session:
            block = ImportBlock(organization_id=orgs[org_code], data_type=data_type, method=Method.URL, paths=paths)
            session.add(block)
            session.flush()
            return block.id

    return make


def news_rows() -> dict[str, NewsItem]:
    with session_scope() as s:
        rows = {n.guid: n for n in s.scalars(select(NewsItem))}
        s.expunge_all()
        return rows


def offer_rows() -> dict[str, Offer]:
    with session_scope() as s:
        rows = {o.internal_id: o for o in s.scalars(select(Offer))}
        s.expunge_all()
        return rows


def counts(report) -> tuple[int, int, int, int, int]:
    return tuple(report.total(n) for n in ("read", "created", "updated", "unchanged", "skipped"))


# --------------------------------------------------------------------------- news


def test_rss_import_and_reimport_changes_nothing(db, https_server, url_block):
    https_server.route("/news.rss", rss(
        rss_item("n-1"), rss_item(guid=None, link="https://uk.example/news/2", title="Лифт"),
        rss_item(guid=None, link=None, title="Без ключа")), content_type="application/rss+xml")
    block = url_block(DataType.NEWS, https_server.url("/news.rss"))

    first = import_block(block)
    assert first.status.value == "Warning", first.message()
    assert counts(first) == (3, 2, 0, 0, 1)
    assert first.warnings == [f"{https_server.url('/news.rss')}: строка 3, запись 3: «Без ключа»: нет ни guid, "
                              "ни ссылки — новость пропущена"]
    rows = news_rows()
    assert set(rows) == {"n-1", "https://uk.example/news/2"}
    assert rows["n-1"].title == "Отключение воды" and rows["n-1"].summary == "<p>Плановые работы</p>"
    assert rows["n-1"].published_at.replace(tzinfo=None).isoformat() == "2026-06-01T07:00:00"
    stamps = {k: v.updated_at for k, v in rows.items()}

    second = import_block(block)
    assert counts(second) == (3, 0, 0, 2, 1)
    assert {k: v.updated_at for k, v in news_rows().items()} == stamps


def test_atom_import_updates_a_changed_entry(db, https_server, url_block):
    https_server.route("/news.atom", atom(atom_entry(), atom_entry("urn:uuid:2", title="Субботник")))
    block = url_block(DataType.NEWS, https_server.url("/news.atom"))
    first = import_block(block)
    assert first.status.value == "Done", first.message()
    assert counts(first) == (2, 2, 0, 0, 0)

    https_server.route("/news.atom", atom(atom_entry(), atom_entry("urn:uuid:2", title="Субботник перенесён")))
    second = import_block(block)
    assert counts(second) == (2, 0, 1, 1, 0)
    assert news_rows()["urn:uuid:2"].title == "Субботник перенесён"


# --------------------------------------------------------------------------- offers


def test_offers_are_withdrawn_when_missing_and_reactivated_when_back(db, https_server, url_block):
    block = url_block(DataType.OFFERS, https_server.url("/realty.xml"))
    https_server.route("/realty.xml", realty(offer("A"), offer("B", images=()), offer("C", price="7 100 000,50")))
    first = import_block(block)
    assert first.status.value == "Done", first.message()
    assert counts(first) == (3, 3, 0, 0, 0)
    rows = offer_rows()
    assert {k: r.status for k, r in rows.items()} == dict.fromkeys("ABC", OfferStatus.ACTIVE)
    a = rows["A"]
    assert (a.type, a.category, a.price, a.currency, a.area, a.rooms, a.floor, a.address, a.images, a.deal_status) == (
        "продажа", "квартира", Decimal("5500000"), "RUR", Decimal("45.5"), 2, 7, "ул. Ленина, 1",
        ["https://img.example/1.jpg"], "primary sale")
    assert rows["B"].images == [] and rows["C"].price == Decimal("7100000.50")

    again = import_block(block)  # the same feed: nothing changes but last_seen_at
    assert counts(again) == (3, 0, 0, 3, 0)
    later = offer_rows()
    assert {k: r.updated_at for k, r in later.items()} == {k: r.updated_at for k, r in rows.items()}
    assert all(later[k].last_seen_at > rows[k].last_seen_at for k in "ABC")

    https_server.route("/realty.xml", realty(offer("A", price="5400000"), offer("C", price="7 100 000,50")))
    second = import_block(block)
    assert second.status.value == "Done", second.message()
    assert (second.total("created"), second.total("updated")) == (0, 2)  # A's price, B withdrawn
    rows = offer_rows()
    assert {k: r.status for k, r in rows.items()} == {"A": OfferStatus.ACTIVE, "B": OfferStatus.WITHDRAWN,
                                                      "C": OfferStatus.ACTIVE}
    assert rows["A"].price == Decimal("5400000")

    https_server.route("/realty.xml", realty(offer("A", price="5400000"), offer("B", images=()),
                                             offer("C", price="7 100 000,50")))
    third = import_block(block)
    assert (third.total("created"), third.total("updated"), third.total("unchanged")) == (0, 1, 2)
    assert {k: r.status for k, r in offer_rows().items()} == dict.fromkeys("ABC", OfferStatus.ACTIVE)


@pytest.mark.parametrize("broken", ["bad value", "truncated"])
def test_a_feed_failing_midway_withdraws_nothing(hub_db, https_server, url_block, broken):
    block = url_block(DataType.OFFERS, https_server.url("/realty.xml"))
    https_server.route("/realty.xml", realty(offer("A"), offer("B"), offer("C")))
    assert import_block(block).status.value == "Done"

    if broken == "bad value":
        data = realty(offer("A"), offer("B", area="много"), offer("Z"))
    else:
        full = realty(offer("A"), offer("Z"), offer("Y"))
        data = full[: full.index(b'internal-id="Y"')]
    https_server.route("/realty.xml", data)
    report = import_block(block)
    assert report.status.value == "Error" and report.error_kind == "data", report.message()
    rows = offer_rows()
    assert {k: r.status for k, r in rows.items() if k in "ABC"} == dict.fromkeys("ABC", OfferStatus.ACTIVE)


def test_offer_without_internal_id_is_a_warning(hub_db, https_server, url_block):
    https_server.route("/realty.xml", realty(offer("A"), offer(None)))
    report = import_block(url_block(DataType.OFFERS, https_server.url("/realty.xml")))
    assert report.status.value == "Warning"
    assert report.warnings == [f"{https_server.url('/realty.xml')}: строка 5, запись 2: у предложения <offer> нет "
                               "атрибута internal-id — предложение пропущено"]
    assert set(offer_rows()) == {"A"}


def test_an_empty_feed_withdraws_nothing_and_says_so(hub_db, https_server, url_block):
    block = url_block(DataType.OFFERS, https_server.url("/realty.xml"))
    https_server.route("/realty.xml", realty(offer("A")))
    import_block(block)
    https_server.route("/realty.xml", realty())
    report = import_block(block)
    assert report.status.value == "Warning"
    assert "предложения витрины не сняты с публикации" in report.warnings[0]
    assert offer_rows()["A"].status == OfferStatus.ACTIVE


def test_images_are_stored_as_a_json_list(hub_db, https_server, url_block):
    images = ("https://img.example/а.jpg", "https://img.example/b.jpg")
    https_server.route("/realty.xml", realty(offer("A", images=images)))
    import_block(url_block(DataType.OFFERS, https_server.url("/realty.xml")))
    assert offer_rows()["A"].images == list(images)
    with session_scope() as s:
        raw = s.connection().exec_driver_sql("SELECT images FROM offers").scalar()
    assert json.loads(raw) == list(images)


# --------------------------------------------------------------------------- what goes wrong on the wire


@pytest.mark.parametrize("data_type", [DataType.NEWS, DataType.OFFERS])
def test_html_page_with_status_200_is_a_clear_data_error(hub_db, https_server, url_block, data_type):
    https_server.route("/feed.xml", b"<!DOCTYPE html><html><head><title>Site maintenance</title></head>"
                                    b"<body><p>Back soon</p></body></html>", content_type="text/html")
    report = import_block(url_block(data_type, https_server.url("/feed.xml")))
    assert report.status.value == "Error" and report.error_kind == "data"
    assert "получена HTML-страница" in report.error


def test_server_error_is_a_transport_error_with_status_and_excerpt(hub_db, https_server, url_block):
    https_server.route("/feed.xml", b"<html><body><h1>500 Internal Server Error</h1>nginx</body></html>", status=500,
                       content_type="text/html")
    report = import_block(url_block(DataType.NEWS, https_server.url("/feed.xml")))
    assert report.status.value == "Error" and report.error_kind == "transport"
    assert "HTTP 500 Internal Server Error from" in report.error and "'500 Internal Server Error nginx'" in report.error
    assert news_rows() == {}


@pytest.mark.parametrize("with_length", [True, False])
def test_feed_over_the_size_cap_is_an_error(hub_db, https_server, url_block, monkeypatch, with_length):
    monkeypatch.setenv("DOMILAND_MAX_FILE_BYTES", "2000")
    data = rss(*(rss_item(f"n-{i}") for i in range(30)))
    if with_length:
        https_server.route("/news.rss", data)
    else:
        https_server.route("/news.rss", lambda: (data[i:i + 500] for i in range(0, len(data), 500)))
    report = import_block(url_block(DataType.NEWS, https_server.url("/news.rss")))
    assert report.status.value == "Error" and report.error_kind == "transport"
    assert "limit of 2000 bytes" in report.error
    assert ("announces" in report.error) is with_length
    assert news_rows() == {}


def test_redirect_to_a_private_address_is_refused(hub_db, https_server, url_block, monkeypatch):
    monkeypatch.setenv("DOMILAND_ALLOWED_PRIVATE_HOSTS", TEST_HOSTNAME)  # the name, not the address
    monkeypatch.setattr(http, "resolve_host", lambda host, port: {TEST_HOSTNAME: ["127.0.0.1"]}[host])
    https_server.redirect("/news.rss", https_server.url("/internal.rss"))
    https_server.route("/internal.rss", rss(rss_item()))
    report = import_block(url_block(DataType.NEWS, https_server.url("/news.rss", host=TEST_HOSTNAME)))
    assert report.status.value == "Error" and report.error_kind == "transport"
    assert "SSRF" in report.error and "127.0.0.1 (loopback)" in report.error
    assert [r.path for r in https_server.requests] == ["/news.rss"]


def test_loopback_host_name_is_refused_unless_allowed(hub_db, https_server, url_block, monkeypatch):
    https_server.route("/news.rss", rss(rss_item()))
    monkeypatch.delenv("DOMILAND_ALLOWED_PRIVATE_HOSTS")
    block = url_block(DataType.NEWS, https_server.url("/news.rss", host="localhost"))
    refused = import_block(block)
    assert refused.status.value == "Error" and "SSRF" in refused.error
    assert https_server.requests == []
    monkeypatch.setenv("DOMILAND_ALLOWED_PRIVATE_HOSTS", "localhost")
    assert import_block(block).status.value == "Done"


def test_slow_server_fails_quickly_with_a_timeout(hub_db, https_server, url_block, monkeypatch):
    monkeypatch.setenv("DOMILAND_HTTP_TIMEOUT", "0.5")
    https_server.route("/news.rss", rss(rss_item()), delay=10)
    report = import_block(url_block(DataType.NEWS, https_server.url("/news.rss")))
    assert report.status.value == "Error" and report.error_kind == "transport"
    assert "Timed out after 0.5 s" in report.error


def test_redirect_loop_is_an_error(hub_db, https_server, url_block):
    https_server.redirect("/a.rss", "/b.rss")
    https_server.redirect("/b.rss", "/a.rss")
    report = import_block(url_block(DataType.NEWS, https_server.url("/a.rss")))
    assert report.status.value == "Error" and "Redirect loop" in report.error


def test_basic_auth_feed(hub_db, https_server, url_block):
    https_server.route("/private.rss", rss(rss_item()))
    report = import_block(url_block(DataType.NEWS, https_server.url("/private.rss", userinfo=f"uk:{SECRET}")))
    assert report.status.value == "Done"
    assert https_server.requests[0].headers["authorization"].startswith("Basic ")


def test_credentials_never_reach_the_report(hub_db, https_server, url_block):
    https_server.route("/private.rss", b"denied", status=401)
    report = import_block(url_block(DataType.NEWS, https_server.url("/private.rss", userinfo=f"uk:{SECRET}")))
    assert report.status.value == "Error"
    assert SECRET not in json.dumps(report.to_dict(), ensure_ascii=False) and SECRET not in report.message()
