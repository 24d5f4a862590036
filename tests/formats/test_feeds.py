"""Feed readers (IMP-10): RSS 2.0 / Atom news via feedparser, Yandex.Realty offers via streaming lxml.

The builders here are also used by the end-to-end tests in ``tests/exchange/test_import_feeds.py``.
"""
from __future__ import annotations

import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest

from domiland.formats import news, offers
from domiland.formats.xml_stream import XmlFormatError

YANDEX_NS = "http://webmaster.yandex.ru/schemas/feed/realty/2010-06"


# --------------------------------------------------------------------------- builders


def rss_item(guid: str | None = "n-1", title: str = "Отключение воды", link: str | None = "https://uk.example/news/1",
             description: str | None = "<p>Плановые работы</p>",
             pub_date: str | None = "Mon, 01 Jun 2026 10:00:00 +0300",
             permalink: bool | None = None) -> str:
    parts = [f"<title>{_esc(title)}</title>"]
    if guid is not None:
        attr = "" if permalink is None else f' isPermaLink="{str(permalink).lower()}"'
        parts.append(f"<guid{attr}>{_esc(guid)}</guid>")
    if link is not None:
        parts.append(f"<link>{_esc(link)}</link>")
    if description is not None:
        parts.append(f"<description>{_esc(description)}</description>")
    if pub_date is not None:
        parts.append(f"<pubDate>{pub_date}</pubDate>")
    return "<item>" + "".join(parts) + "</item>"


def rss(*items: str, encoding: str = "utf-8") -> bytes:
    body = (f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0">\n<channel>\n'
            "<title>Новости УК</title><link>https://uk.example/</link><description>Новости</description>\n"
            + "\n".join(items) + "\n</channel>\n</rss>\n")
    return body.encode(encoding)


def atom_entry(entry_id: str | None = "urn:uuid:1", title: str = "Собрание жильцов",
               link: str | None = "https://uk.example/a/1",
               content: str = "<p>В среду в 19:00</p>", updated: str = "2026-06-02T09:30:00+03:00",
               published: str | None = None, title_type: str = "text") -> str:
    parts = [f'<title type="{title_type}">{_esc(title)}</title>']
    if entry_id is not None:
        parts.append(f"<id>{_esc(entry_id)}</id>")
    if link is not None:
        parts.append(f'<link rel="alternate" href="{_esc(link)}"/>')
    parts.append(f'<content type="html">{_esc(content)}</content><updated>{updated}</updated>')
    if published:
        parts.append(f"<published>{published}</published>")
    return "<entry>" + "".join(parts) + "</entry>"


def atom(*entries: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
            "<title>Новости</title><id>urn:feed</id><updated>2026-06-02T09:30:00Z</updated>\n"
            + "\n".join(entries) + "\n</feed>\n").encode()


def offer(internal_id: str | None = "A-101", *, price: str = "5500000", currency: str = "RUR", area: str = "45.5",
          rooms: str | None = "2", floor: str | None = "7", address: str = "ул. Ленина, 1",
          images: tuple[str, ...] = ("https://img.example/1.jpg",), deal_status: str | None = "primary sale",
          offer_type: str = "продажа", category: str = "квартира", extra: str = "") -> str:
    attr = f' internal-id="{internal_id}"' if internal_id is not None else ""
    parts = [f"<type>{offer_type}</type>", "<property-type>жилая</property-type>", f"<category>{category}</category>",
             "<creation-date>2026-05-01T10:00:00+03:00</creation-date>",
             f"<location><country>Россия</country><locality-name>Москва</locality-name><address>{_esc(address)}"
             "</address></location>",
             f"<price><value>{price}</value><currency>{currency}</currency></price>",
             f"<area><value>{area}</value><unit>кв. м</unit></area>"]
    if rooms is not None:
        parts.append(f"<rooms>{rooms}</rooms>")
    if floor is not None:
        parts.append(f"<floor>{floor}</floor>")
    parts += [f"<image>{_esc(url)}</image>" for url in images]
    if deal_status is not None:
        parts.append(f"<deal-status>{deal_status}</deal-status>")
    return f"<offer{attr}>" + "".join(parts) + extra + "</offer>"


def realty(*offer_elements: str, namespace: str | None = YANDEX_NS, encoding: str = "utf-8") -> bytes:
    """A whole feed, one offer per line (so offer N starts on line N + 3)."""
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    body = (f'<?xml version="1.0" encoding="{encoding}"?>\n<realty-feed{xmlns}>\n'
            "<generation-date>2026-06-01T03:00:00+03:00</generation-date>\n"
            + "".join(o + "\n" for o in offer_elements) + "</realty-feed>\n")
    return body.encode(encoding)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@pytest.fixture
def write(tmp_path: Path):
    def write(data: bytes) -> Path:
        path = tmp_path / "feed.xml"
        path.write_bytes(data)
        return path

    return write


# --------------------------------------------------------------------------- news


def test_rss_items(write):
    data = rss(rss_item(description='<p onclick="x()">Плановые <b>работы</b><script>alert(1)</script></p>'),
               rss_item("n-2", "Тарифы & цены", "https://uk.example/news/2", None, None))
    items = list(news.read(write(data)))
    assert items == [
        (1, {"guid": "n-1", "title": "Отключение воды", "link": "https://uk.example/news/1",
             "summary": "<p>Плановые <b>работы</b></p>",
             "published_at": datetime(2026, 6, 1, 7, 0, tzinfo=timezone.utc)}),
        (2, {"guid": "n-2", "title": "Тарифы & цены", "link": "https://uk.example/news/2", "summary": None,
             "published_at": None}),
    ]
    assert items[0][1]["published_at"].tzinfo is not None


def test_atom_entries(write):
    data = atom(atom_entry(title="<b>Собрание</b> жильцов", title_type="html"),
                atom_entry("urn:uuid:2", published="2026-06-01T12:00:00Z"))
    (_, first), (_, second) = news.read(write(data))
    assert first == {"guid": "urn:uuid:1", "title": "Собрание жильцов", "link": "https://uk.example/a/1",
                     "summary": "<p>В среду в 19:00</p>",
                     "published_at": datetime(2026, 6, 2, 6, 30, tzinfo=timezone.utc)}
    assert second["published_at"] == datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)  # published wins over updated


def test_guid_falls_back_to_link_and_an_item_with_neither_has_no_key(write):
    data = rss(rss_item(guid=None, link="https://uk.example/news/7"), rss_item(guid=None, link=None, title="Без всего"),
               rss_item(guid="12345", link=None, permalink=True))
    fields = [f for _, f in news.read(write(data))]
    assert [(f["guid"], f["link"]) for f in fields] == [
        ("https://uk.example/news/7", "https://uk.example/news/7"), (None, None),
        ("12345", None)]  # a permalink guid that is no URL is not a link


def test_windows_1251_feed(write):
    (_, fields), = news.read(write(rss(rss_item(title="Новость дня"), encoding="windows-1251")))
    assert fields["title"] == "Новость дня"


def test_slightly_broken_feed_with_items_is_accepted(write):
    data = rss(rss_item(title="a&nbsp;b")).replace(b"&amp;nbsp;", b"&nbsp;")  # undefined entity in XML
    (_, fields), = news.read(write(data))
    assert fields["title"] == "a\xa0b"


def test_feed_without_items_yields_nothing(write):
    assert list(news.read(write(rss()))) == []


def test_html_error_page_is_not_a_feed(write):
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad</h1></body></html>"
    with pytest.raises(XmlFormatError, match="получена HTML-страница") as err:
        list(news.read(write(page)))
    assert "502 Bad Gateway" in str(err.value)


@pytest.mark.parametrize("data, message", [
    (b"", "файл пуст"),
    (b"  \n", "файл пуст"),
    (b"Internal Server Error", "не является лентой RSS 2.0 или Atom"),
    (b'<?xml version="1.0"?><Accruals version="1"></Accruals>', "не является лентой RSS 2.0 или Atom"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</ti', "ни одной новости не прочитано"),
])
def test_not_a_feed(write, data, message):
    with pytest.raises(XmlFormatError, match=message):
        list(news.read(write(data)))


def test_truncated_feed_is_an_error_even_if_items_were_recovered(write):
    data = rss(rss_item("n-1"), rss_item("n-2"))
    with pytest.raises(XmlFormatError, match="лента оборвана"):
        list(news.read(write(data[: data.index(b"<guid>n-2") + 8])))


def test_oversized_news_feed_is_refused_before_parsing(write, monkeypatch):
    monkeypatch.setattr(news, "MAX_FEED_BYTES", 1000)
    with pytest.raises(XmlFormatError, match="лента новостей слишком большая"):
        list(news.read(write(rss(*(rss_item(f"n-{i}") for i in range(20))))))


def test_entity_declarations_are_refused(write):
    data = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<rss version="2.0"><channel><item><title>&x;</title><guid>1</guid></item></channel></rss>')
    with pytest.raises(XmlFormatError, match="ENTITY"):
        list(news.read(write(data)))


def test_a_feed_text_that_looks_like_a_url_is_never_fetched(write, monkeypatch):
    import feedparser.http

    monkeypatch.setattr(feedparser.http, "get", lambda *a, **k: pytest.fail("feedparser tried to fetch"))
    with pytest.raises(XmlFormatError):
        list(news.read(write(b"https://evil.example/feed.xml")))


# --------------------------------------------------------------------------- offers


def test_offer_fields_and_lines(write):
    data = realty(offer(images=("https://img.example/1.jpg", "https://img.example/2.jpg"),
                        extra="<my-crm-field><nested>x</nested></my-crm-field><price-history>1</price-history>"),
                  offer("B-7", price="12 300 000", area="61,2", rooms=None, floor="-1", images=(), deal_status=None,
                        offer_type="аренда"))
    assert list(offers.read(write(data))) == [
        (4, {"internal_id": "A-101", "type": "продажа", "category": "квартира", "price": "5500000", "currency": "RUR",
             "area": "45.5", "rooms": 2, "floor": 7, "address": "ул. Ленина, 1",
             "images": ["https://img.example/1.jpg", "https://img.example/2.jpg"], "deal_status": "primary sale"}),
        (5, {"internal_id": "B-7", "type": "аренда", "category": "квартира", "price": "12300000", "currency": "RUR",
             "area": "61.2", "rooms": None, "floor": -1, "address": "ул. Ленина, 1", "images": [],
             "deal_status": None}),
    ]


def test_feed_without_namespace_and_in_windows_1251(write):
    data = realty(offer(address="пр. Мира, 5"), namespace=None, encoding="windows-1251")
    (_, fields), = offers.read(write(data))
    assert fields["address"] == "пр. Мира, 5"


def test_offer_without_internal_id_is_passed_on_for_a_warning(write):
    assert [f["internal_id"] for _, f in offers.read(write(realty(offer(None), offer("C-1"))))] == [None, "C-1"]


def test_bad_number_stops_at_that_offer_after_the_earlier_ones(write):
    data = realty(offer("A-1"), offer("A-2", price="договорная"), offer("A-3"))
    seen = []
    with pytest.raises(XmlFormatError) as err:
        for _, fields in offers.read(write(data)):
            seen.append(fields["internal_id"])
    assert seen == ["A-1"]
    assert (err.value.line, err.value.record_no) == (5, 2)
    assert str(err.value).startswith("строка 5, запись 2: ")
    assert "предложение A-2: <price/value> должно быть числом, получено 'договорная'" in str(err.value)


def test_truncated_feed_is_an_error_after_the_complete_offers(write):
    data = realty(offer("A-1"), offer("A-2"), offer("A-3"))
    seen = []
    with pytest.raises(XmlFormatError, match="не является корректным XML"):
        for _, fields in offers.read(write(data[: data.index(b'internal-id="A-3"') + 30])):
            seen.append(fields["internal_id"])
    assert seen == ["A-1", "A-2"]


@pytest.mark.parametrize("data, message", [
    (b"<!DOCTYPE html><html><head><title>Error</title></head><body>Oops</body></html>", "HTML-страница"),
    (b"<html><body><p>Bad gateway<br></body></html>", "HTML-страница"),
    (b"", "пуст|корректным XML"),
    (b"Internal Server Error", "корректным XML"),
    (b'<?xml version="1.0"?><rss version="2.0"/>', "ожидался <realty-feed"),
    (b'<?xml version="1.0"?><realty-feed xmlns="urn:other"/>', "ожидался <realty-feed"),
])
def test_not_a_realty_feed(write, data, message):
    with pytest.raises(XmlFormatError, match=message):
        list(offers.read(write(data)))


def test_doctype_and_entities_are_refused_without_expanding(write):
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    data = (f'<?xml version="1.0"?><!DOCTYPE realty-feed [<!ENTITY l0 "lol">{lol}]>'
            f'<realty-feed xmlns="{YANDEX_NS}">{offer(address="&l9;")}</realty-feed>').encode()
    tracemalloc.start()
    with pytest.raises(XmlFormatError, match="DOCTYPE|amplification"):
        list(offers.read(write(data)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_offers_are_freed_while_streaming(write):
    gen = offers.read(write(realty(*(offer(f"X-{i}") for i in range(5000)))))
    sizes = [len(gen.gi_frame.f_locals["root"]) for i, _ in enumerate(gen) if i % 500 == 499]
    assert len(sizes) == 10 and max(sizes) < 200, sizes
