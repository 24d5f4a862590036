"""The streaming reader: valid files in both encodings, and every kind of bad or hostile input (IMP-5, IMP-6)."""
from __future__ import annotations

import io
import tracemalloc

import pytest

from domiland.formats.accruals import ACCRUALS
from domiland.formats.xml_stream import XmlFormatError, iter_records
from tests.samples import accrual, accruals_xml


def read(data: bytes) -> list:
    return list(iter_records(io.BytesIO(data), ACCRUALS))


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1251"])
def test_reads_records_with_lines_in_both_encodings(encoding):
    records = read(accruals_xml(accrual("1001", name="Холодная вода"), accrual("1002", amount=" 7.25 "),
                                encoding=encoding))
    assert records == [
        (3, {"AccountNumber": "1001", "Period": "2026-05", "ServiceCode": "CW", "ServiceName": "Холодная вода",
             "Amount": "100.50"}),
        (4, {"AccountNumber": "1002", "Period": "2026-05", "ServiceCode": "CW", "ServiceName": "Холодная вода",
             "Amount": "7.25"}),
    ]


def test_empty_file_has_no_records():
    assert read(accruals_xml()) == []


def test_invalid_record_in_the_middle_stops_there_after_yielding_earlier_ones():
    data = accruals_xml(accrual("1001"), accrual("1002"), accrual("1003", amount="12,50"), accrual("1004"))
    seen = []
    with pytest.raises(XmlFormatError) as err:
        for line, fields in iter_records(io.BytesIO(data), ACCRUALS):
            seen.append(fields["AccountNumber"])
    assert seen == ["1001", "1002"]
    assert (err.value.line, err.value.record_no) == (5, 3)
    assert "строка 5, запись 3" in str(err.value) and "'12,50'" in str(err.value)


@pytest.mark.parametrize("record, needle", [
    (accrual(Unknown="x"), "Unknown"),
    (accrual(period="2026-13"), "Period"),
    ("<Accrual><AccountNumber>1</AccountNumber><Period>2026-05</Period><ServiceCode>X</ServiceCode></Accrual>",
     "Amount"),
])
def test_schema_violations_name_the_element(record, needle):
    with pytest.raises(XmlFormatError, match=needle) as err:
        read(accruals_xml(accrual(), record))
    assert err.value.record_no == 2


@pytest.mark.parametrize("data, message", [
    (b'<Payments version="1"></Payments>', "ожидался <Accruals>"),
    (b'<Accruals></Accruals>', 'version="1"'),
    (b'<Accruals version="2"></Accruals>', 'version="1"'),
    (b'<Accruals version="1"><Foo/></Accruals>', "неизвестный элемент <Foo>"),
    (accruals_xml(accrual(), "<Foo/>", accrual()), "неизвестный элемент <Foo>"),
    (b'<Accruals version="1"><Group>' + accrual().encode() + b"</Group></Accruals>", "прямо в <Accruals>"),
    (accruals_xml(accrual() + "junk"), "лишний текст"),
    (accruals_xml(accrual(), accrual())[:-30], "не является корректным XML"),
    (b"\xef\xbb\xbfnot xml at all", "не является корректным XML"),
    (b"", "не является корректным XML"),
])
def test_malformed_or_foreign_files_are_errors(data, message):
    with pytest.raises(XmlFormatError, match=message):
        read(data)


def test_wrong_encoding_declaration_is_a_clear_error():
    data = accruals_xml(accrual(name="Холодная вода"), encoding="windows-1251").replace(b"windows-1251", b"utf-8")
    with pytest.raises(XmlFormatError, match="не является корректным XML"):
        read(data)


def test_external_entity_is_refused_and_nothing_is_read_from_disk(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    data = (f'<?xml version="1.0"?><!DOCTYPE Accruals [<!ENTITY x SYSTEM "file://{secret}">]>'
            f'<Accruals version="1">{accrual(account="&x;")}</Accruals>').encode()
    with pytest.raises(XmlFormatError, match="DOCTYPE") as err:
        read(data)
    assert "TOP-SECRET-MARKER" not in str(err.value)


def test_billion_laughs_is_refused_without_expanding():
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    data = (f'<?xml version="1.0"?><!DOCTYPE Accruals [<!ENTITY l0 "lol">{lol}]>'
            f'<Accruals version="1">{accrual(account="&l9;")}</Accruals>').encode()
    tracemalloc.start()
    with pytest.raises(XmlFormatError, match="DOCTYPE|amplification"):
        read(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_records_are_freed_while_streaming():
    """The tree behind the reader holds only the parser's read-ahead, not the file: memory stays flat."""
    data = accruals_xml(*(accrual(str(1000 + i)) for i in range(20000)))
    gen = iter_records(io.BytesIO(data), ACCRUALS)
    sizes = [len(gen.gi_frame.f_locals["root"]) for i, _ in enumerate(gen) if i % 1000 == 999]
    assert len(sizes) == 20 and max(sizes) < 500, sizes
