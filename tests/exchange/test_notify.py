"""E-mail reports (MAIL-1, MAIL-2) through a real SMTP server: content, recipients, and failures that never raise."""
from __future__ import annotations

import json
import logging
import time

import pytest

from domiland.db.models import DataType, Method
from domiland.exchange import notify
from domiland.exchange.blocks import BlockSpec
from domiland.exchange.notify import compose_report, parse_recipients, send_report
from domiland.exchange.report import FileReport, ImportReport
from domiland.transports.smtp import MailError, send_mail
from tests.fixtures.smtp import CONN_ENV, conn_json

RUN_URL = "http://airflow.local:8080/dags/uk-test.import.accruals/runs/manual__2026-05-01T00:00:00+00:00/tasks/import"
ERROR = "a.xml: строка 4, запись 2: не соответствует схеме accruals.xsd: Period: 'май' is not a valid value"


def spec(email: str | None = "buh@uk-test.ru", **overrides) -> BlockSpec:
    values = dict(direction="import", block_id=7, organization_id=1, org_code="uk-test", org_name="УК «Тестовая»",
                  timezone="Europe/Moscow", data_type=DataType.ACCRUALS, method=Method.XML, paths="/a.xml",
                  delete_after_read=False, email=email, schedule=("0", "2", "*", "*", "*"), updated_at=None)
    values.update(overrides)
    return BlockSpec(**values)


def report(*, warnings: int = 0, error: str | None = None) -> ImportReport:
    r = ImportReport(files=[FileReport("/a.xml", read=3, created=2, updated=1)])
    for i in range(1, warnings + 1):
        r.warn(f"a.xml: запись {i}: лицевой счёт {4000 + i} не найден")
    if error:
        r.fail(error, "data")
    return r


def send(smtp_server, r: ImportReport, **kw) -> bool:
    return send_report(kw.pop("spec", None) or spec(), r, log_entry_id=42, airflow_url=kw.pop("airflow_url", RUN_URL))


# --- content, from the real server ---------------------------------------------------------------------------

def test_done_run_mails_status_ok_with_counts_and_the_run_link(smtp_server, caplog):
    caplog.set_level(logging.INFO, logger="domiland")
    assert send(smtp_server, report()) is True
    (mail,) = smtp_server.messages
    assert mail.rcpt_tos == ["buh@uk-test.ru"] and mail.mail_from == "noreply@domiland.local"
    assert mail.subject == "Домиленд: Импорт начислений 42 — Выполнено"
    assert mail.message["From"] == "Domiland <noreply@domiland.local>" and mail.message["To"] == "buh@uk-test.ru"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    text = mail.text
    assert "Организация: УК «Тестовая»\nОперация: Импорт начислений 42\nСтатус: OK\n" in text
    assert ("Прочитано записей: 3 (файлов: 1); создано 2, обновлено 1, без изменений 0, пропущено 0." in text)
    assert f"Запуск в Airflow: {RUN_URL}" in text
    assert "Ошибка" not in text and "Предупреждени" not in text
    assert "Статус: <b>OK</b>" in mail.html and f'href="{RUN_URL}"' in mail.html
    assert smtp_server.logins == [("hub-mailer", True)]  # the hook logged in with the connection's credentials
    assert "sent to buh@uk-test.ru" in caplog.text


def test_warning_run_lists_the_warnings(smtp_server):
    assert send(smtp_server, report(warnings=2)) is True
    (mail,) = smtp_server.messages
    assert mail.subject == "Домиленд: Импорт начислений 42 — Предупреждение"
    assert "Статус: Предупреждение" in mail.text
    assert ("Предупреждения (2):\n  1. a.xml: запись 1: лицевой счёт 4001 не найден\n"
            "  2. a.xml: запись 2: лицевой счёт 4002 не найден\n") in mail.text
    assert "… и ещё" not in mail.text
    assert "<li>a.xml: запись 2: лицевой счёт 4002 не найден</li>" in mail.html


def test_error_run_names_the_file_and_line_and_the_warnings_before_it(smtp_server):
    assert send(smtp_server, report(warnings=1, error=ERROR)) is True
    (mail,) = smtp_server.messages
    assert mail.subject == "Домиленд: Импорт начислений 42 — Ошибка"
    assert "Статус: Ошибка" in mail.text
    assert f"Ошибка: {ERROR}\nОперация остановлена на этой ошибке; данные, загруженные до неё, остались в CRM." \
        in mail.text
    assert "1. a.xml: запись 1: лицевой счёт 4001 не найден" in mail.text
    assert "&#x27;май&#x27;" in mail.html  # escaped in the HTML part


def test_many_warnings_are_capped_at_50_and_the_rest_counted(smtp_server):
    r = report(warnings=130)  # the report keeps 100 and counts all 130
    assert send(smtp_server, r) is True
    (mail,) = smtp_server.messages
    assert "Предупреждения (130):" in mail.text
    assert "  50. a.xml: запись 50: лицевой счёт 4050 не найден" in mail.text
    assert "запись 51:" not in mail.text and "запись 51:" not in mail.html
    assert "… и ещё 80" in mail.text and "… и ещё 80" in mail.html


def test_compose_report_is_pure_and_leaves_out_the_link_when_unknown():
    mail = compose_report(spec(org_name="УК\n«Тестовая»"), report(), log_entry_id=5, airflow_url=None)
    assert mail.subject == "Домиленд: Импорт начислений 5 — Выполнено"
    assert "Airflow" not in mail.text and "Airflow" not in mail.html
    assert "Статус: OK" in mail.text
    assert compose_report(spec(), report(), log_entry_id=5).text == \
        compose_report(spec(), report(), log_entry_id=5).text


def test_export_blocks_get_their_own_title():
    mail = compose_report(spec(direction="export", data_type=DataType.PAYMENTS), report(), log_entry_id=4180684)
    assert mail.subject == "Домиленд: Экспорт платежей 4180684 — Выполнено"


# --- recipients ----------------------------------------------------------------------------------------------

def test_several_recipients_get_one_message(smtp_server, caplog):
    addresses = "buh@uk-test.ru; Director@UK-test.ru,\n ops@uk-test.ru , buh@UK-TEST.ru; почта@нет; info@почта.рф"
    assert send(smtp_server, report(), spec=spec(addresses)) is True
    (mail,) = smtp_server.messages
    assert mail.rcpt_tos == ["buh@uk-test.ru", "Director@uk-test.ru", "ops@uk-test.ru", "info@xn--80a1acny.xn--p1ai"]
    assert mail.message["To"] == ", ".join(mail.rcpt_tos)
    assert "ignoring invalid address(es) почта@нет" in caplog.text


@pytest.mark.parametrize("value, valid, invalid", [
    ("a@b.ru", ["a@b.ru"], []),
    ("a@b.ru,,; ;c.d+tag@e-f.example.com", ["a@b.ru", "c.d+tag@e-f.example.com"], []),
    ("<a@b.ru>", ["a@b.ru"], []),
    ("a@b, @b.ru, a@, a@@b.ru, a..b@c.ru, a@-b.ru, a@b.123, Иван@b.ru", [],
     ["a@b", "@b.ru", "a@", "a@@b.ru", "a..b@c.ru", "a@-b.ru", "a@b.123", "Иван@b.ru"]),
    (None, [], []),
    ("   ", [], []),
])
def test_parse_recipients(value, valid, invalid):
    assert parse_recipients(value) == (valid, invalid)


def test_no_address_sends_nothing_and_logs_nothing(smtp_server, caplog):
    caplog.set_level(logging.DEBUG, logger="domiland")
    assert send(smtp_server, report(), spec=spec(None)) is False
    assert send(smtp_server, report(), spec=spec("  ")) is False
    assert smtp_server.messages == [] and smtp_server.logins == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_only_invalid_addresses_are_logged_not_sent(smtp_server, caplog):
    assert send(smtp_server, report(), spec=spec("бухгалтерия, buh at uk.ru")) is False
    assert smtp_server.messages == []
    assert "the block has no valid e-mail address" in caplog.text


def test_a_refused_recipient_is_logged_and_the_others_still_get_it(smtp_server, caplog):
    smtp_server.refuse = {"gone@uk-test.ru"}
    assert send(smtp_server, report(), spec=spec("gone@uk-test.ru, buh@uk-test.ru")) is True
    (mail,) = smtp_server.messages
    assert mail.rcpt_tos == ["buh@uk-test.ru"]
    assert "the SMTP server refused gone@uk-test.ru (sent to the others)" in caplog.text


def test_every_recipient_refused_is_logged_not_raised(smtp_server, caplog):
    smtp_server.refuse = {"gone@uk-test.ru"}
    assert send(smtp_server, report(), spec=spec("gone@uk-test.ru")) is False
    assert smtp_server.messages == []
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("domiland")]
    assert record.name == "domiland.exchange.notify"
    assert "refused every recipient (gone@uk-test.ru: 550 5.1.1 <gone@uk-test.ru>: Recipient address rejected" \
        in record.getMessage()


# --- failures never raise (MAIL-2) and are bounded ------------------------------------------------------------

def test_smtp_down_returns_false_at_once(smtp_down, caplog):
    started = time.monotonic()
    assert send(None, report()) is False
    assert time.monotonic() - started < 1.0
    assert f"SMTP server 127.0.0.1:{smtp_down} (connection 'domiland_smtp') refused the connection" in caplog.text
    assert "down-secret-pw" not in caplog.text


def test_a_silent_server_is_given_up_after_the_timeout_and_one_retry(smtp_silent, monkeypatch, caplog):
    """The ``timeout`` extra (1 s here) bounds the wait; ``retry_limit`` 5 is capped to one retry."""
    monkeypatch.setenv(CONN_ENV, conn_json(smtp_silent, timeout=1, retry_limit=5))
    started = time.monotonic()
    assert send(None, report()) is False
    elapsed = time.monotonic() - started
    assert 1.9 < elapsed < 3.5, elapsed
    assert f"127.0.0.1:{smtp_silent} (connection 'domiland_smtp') did not answer within 1 s (2 attempts)" \
        in caplog.text


def test_a_fractional_timeout_is_honoured(smtp_silent, monkeypatch):
    monkeypatch.setenv(CONN_ENV, conn_json(smtp_silent, timeout=0.3, retry_limit=0))
    started = time.monotonic()
    with pytest.raises(MailError, match=r"did not answer within 0\.3 s \(1 attempts\)"):
        send_mail(["buh@uk-test.ru"], "s", "t")
    assert time.monotonic() - started < 1.0


def test_missing_connection_is_logged_with_the_variable_to_set(monkeypatch, caplog):
    monkeypatch.delenv(CONN_ENV, raising=False)
    monkeypatch.delenv("DOMILAND_SMTP_CONN_ID", raising=False)
    assert send(None, report()) is False
    assert "the SMTP connection 'domiland_smtp' is not defined: set AIRFLOW_CONN_DOMILAND_SMTP" in caplog.text


def test_a_bug_while_composing_is_logged_not_raised(smtp_server, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(notify, "compose_report", broken)
    assert send(smtp_server, report()) is False
    assert "not sent: unexpected KeyError" in caplog.text and smtp_server.messages == []


def test_the_password_never_reaches_the_logs(smtp_server, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, aiosmtpd's protocol trace included
    assert send(smtp_server, report()) is True
    monkeypatch.setenv(CONN_ENV, smtp_server.conn_json(password="wrong-" + smtp_server.password))
    assert send(smtp_server, report()) is False
    assert "rejected the login of user 'hub-mailer': 535 5.7.8 Authentication credentials invalid" in caplog.text
    assert smtp_server.password not in caplog.text
    for record in caplog.records:  # nor in a traceback attached to a record
        assert smtp_server.password not in (record.exc_text or "")
    with pytest.raises(MailError) as info:
        send_mail(["buh@uk-test.ru"], "s", "t")
    assert smtp_server.password not in str(info.value) and smtp_server.password not in repr(info.value.__cause__)


# --- the connection --------------------------------------------------------------------------------------------

def test_connection_id_and_sender_are_configurable(smtp_server, monkeypatch):
    monkeypatch.delenv(CONN_ENV)
    monkeypatch.setenv("DOMILAND_SMTP_CONN_ID", "hub_mail")
    monkeypatch.setenv("AIRFLOW_CONN_HUB_MAIL", smtp_server.conn_json())
    monkeypatch.setenv("DOMILAND_MAIL_FROM", "Домиленд <robot@domiland.ru>")
    assert send(smtp_server, report()) is True
    monkeypatch.setenv("AIRFLOW_CONN_HUB_MAIL", smtp_server.conn_json(from_email="УК <uk@uk-test.ru>"))
    assert send(smtp_server, report()) is True  # the connection's from_email wins over the environment
    first, second = smtp_server.messages
    assert first.mail_from == "robot@domiland.ru" and first.message["From"].addresses[0].display_name == "Домиленд"
    assert second.mail_from == "uk@uk-test.ru" and str(second.message["From"]) == "УК <uk@uk-test.ru>"


def test_uri_form_booleans_are_parsed_so_tls_is_not_silently_disabled(smtp_server, monkeypatch, caplog):
    """The provider reads ``bool("false")`` as True: ``disable_tls=false`` would send the password in clear."""
    base = f"smtp://hub-mailer:{smtp_server.password}@127.0.0.1:{smtp_server.port}?disable_ssl=true&timeout=2"
    monkeypatch.setenv(CONN_ENV, base + "&disable_tls=false")
    assert send(smtp_server, report()) is False  # STARTTLS required, and this server has none
    assert "does not support a required extension (STARTTLS extension not supported by server.)" in caplog.text
    assert smtp_server.logins == []
    monkeypatch.setenv(CONN_ENV, base + "&disable_tls=true")
    assert send(smtp_server, report()) is True and smtp_server.logins == [("hub-mailer", True)]


def test_json_connection_form_is_what_the_fixture_uses(smtp_server):
    conn = json.loads(smtp_server.conn_json())
    assert conn["conn_type"] == "smtp" and conn["extra"]["disable_ssl"] is True
    assert send_mail(["buh@uk-test.ru"], "Тема", "Текст") == []
    (mail,) = smtp_server.messages
    assert mail.subject == "Тема" and mail.text == "Текст\n" and mail.html is None
