"""E-mail reports of block runs (MAIL-1, MAIL-2): "Уведомлять на email" of an import or export block.

A block with an e-mail address gets one message per run: status OK, or the error (with its
location) and the warnings, with the counts. Sending is best effort: a failed e-mail is logged
as a warning and never raises, so it cannot change the run's own status (MAIL-2).

:func:`compose_report` builds the text (pure, for tests and previews); :func:`send_report` sends it.
"""
from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass

from domiland.db.models import LogStatus
from domiland.exchange.blocks import BlockSpec
from domiland.exchange.report import Report
from domiland.transports.smtp import MailError, send_mail

log = logging.getLogger(__name__)

MAX_MAILED_WARNINGS = 50
"""Warnings listed in one e-mail; the rest are counted ("… и ещё N")."""

STATUS_RU = {
    LogStatus.RUNNING: "Выполняется",
    LogStatus.DONE: "Выполнено",
    LogStatus.ERROR: "Ошибка",
    LogStatus.WARNING: "Предупреждение",
    LogStatus.DUPLICATE: "Дубликат",
}
OK = "OK"
"""The body's status when there are neither errors nor warnings (help page: "приходит просто статус ОК")."""

_SEPARATORS = re.compile(r"[,;\s]+")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class ReportMail:
    """One composed report: subject, plain-text body and its HTML alternative."""

    subject: str
    text: str
    html: str


def parse_recipients(value: str | None) -> tuple[list[str], list[str]]:
    """Split the block's "e-mail" field on commas, semicolons or spaces: (valid addresses, rejected items).

    Duplicates are dropped (case-insensitively), the order is kept; a Cyrillic domain
    (``почта.рф``) is converted to its ASCII form, a non-ASCII local part is rejected
    (it would need SMTPUTF8).
    """
    valid: list[str] = []
    invalid: list[str] = []
    seen: set[str] = set()
    for item in _SEPARATORS.split(value or ""):
        if not item:
            continue
        address = _normalize(item)
        if address is None:
            invalid.append(item)
        elif address.lower() not in seen:
            seen.add(address.lower())
            valid.append(address)
    return valid, invalid


def _normalize(item: str) -> str | None:
    local, at, domain = item.strip("<>").rpartition("@")
    if not at or not local or len(local) > 64 or not _LOCAL.match(local):
        return None
    try:
        domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return None
    address = f"{local}@{domain}"
    return address if len(address) <= 254 else None


def compose_report(spec: BlockSpec, report: Report, *, log_entry_id: int,
                   airflow_url: str | None = None) -> ReportMail:
    """The Russian e-mail of one run (pure: no I/O). Uses the block's title and organization and the report's
    status, counts, error and warnings (the first :data:`MAX_MAILED_WARNINGS`)."""
    status = report.status
    task = f"{spec.title_ru} {log_entry_id}"
    subject = f"Домиленд: {task} — {STATUS_RU.get(status, status.value)}"
    body_status = OK if status == LogStatus.DONE else STATUS_RU.get(status, status.value)
    summary = report.summary_lines()
    listed = report.warnings[:MAX_MAILED_WARNINGS]
    more = max(report.warning_count - len(listed), 0)

    lines = [
        f"Организация: {spec.org_name}",
        f"Операция: {task}",
        f"Статус: {body_status}",
        "",
        *summary,
    ]
    if report.error:
        lines += ["", f"Ошибка: {report.error}", report.error_note]
    if report.warning_count:
        lines += ["", f"Предупреждения ({report.warning_count}):"]
        lines += [f"  {i}. {w}" for i, w in enumerate(listed, 1)]
        if more:
            lines.append(f"… и ещё {more}")
    lines.append("")
    if airflow_url:
        lines.append(f"Запуск в Airflow: {airflow_url}")
    lines += ["Журнал операций: Настройка → Интеграция → Обмен данными → Лог.", "",
              "Письмо отправлено автоматически, отвечать на него не нужно."]
    text = "\n".join(lines) + "\n"

    e = html.escape
    parts = [
        "<!DOCTYPE html><html><body>",
        f"<p>Организация: {e(spec.org_name)}<br>Операция: {e(task)}<br>Статус: <b>{e(body_status)}</b></p>",
        "<p>" + "<br>".join(e(line) for line in summary) + "</p>",
    ]
    if report.error:
        parts.append(f"<p><b>Ошибка:</b> {e(report.error)}<br>{e(report.error_note)}</p>")
    if report.warning_count:
        parts.append(f"<p>Предупреждения ({report.warning_count}):</p><ol>"
                     + "".join(f"<li>{e(w)}</li>" for w in listed) + "</ol>")
        if more:
            parts.append(f"<p>… и ещё {more}</p>")
    if airflow_url:
        parts.append(f'<p><a href="{e(airflow_url, quote=True)}">Запуск в Airflow</a></p>')
    parts.append("<p>Журнал операций: Настройка → Интеграция → Обмен данными → Лог.<br>"
                 "Письмо отправлено автоматически, отвечать на него не нужно.</p></body></html>")
    return ReportMail(subject=subject, text=text, html="\n".join(parts))


def send_report(spec: BlockSpec, report: Report, *, log_entry_id: int, airflow_url: str | None) -> bool:
    """E-mail the run's report to the block's addresses (MAIL-1); True when the server accepted it.

    Never raises (MAIL-2): no address, only invalid addresses, an SMTP failure or a bug here
    are logged (a warning, with the reason) and give False.
    """
    what = f"{spec.title_ru} {log_entry_id} ({spec.org_code}, block {spec.block_id})"
    try:
        recipients, invalid = parse_recipients(spec.email)
        if invalid:
            log.warning("E-mail report of %s: ignoring invalid address(es) %s", what, ", ".join(invalid))
        if not recipients:
            if invalid:
                log.warning("E-mail report of %s not sent: the block has no valid e-mail address", what)
            return False
        mail = compose_report(spec, report, log_entry_id=log_entry_id, airflow_url=airflow_url)
        refused = send_mail(recipients, mail.subject, mail.text, mail.html)
    except MailError as exc:
        log.warning("E-mail report of %s to %s not sent: %s", what, spec.email, exc)
        return False
    except Exception as exc:  # noqa: BLE001 -- MAIL-2: a report must never break the run
        log.warning("E-mail report of %s not sent: unexpected %s: %s", what, exc.__class__.__name__, exc,
                    exc_info=True)
        return False
    if refused:
        log.warning("E-mail report of %s: the SMTP server refused %s (sent to the others)", what, ", ".join(refused))
    log.info("E-mail report of %s sent to %s", what, ", ".join(r for r in recipients if r not in refused))
    return True
