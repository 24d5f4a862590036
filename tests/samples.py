"""Builders of exchange files for tests (written as partners write them)."""
from __future__ import annotations


def accrual(account: str = "1001", period: str = "2026-05", service: str = "CW", amount: str = "100.50",
            name: str | None = "Холодная вода", **extra: str) -> str:
    fields = {"AccountNumber": account, "Period": period, "ServiceCode": service}
    if name is not None:
        fields["ServiceName"] = name
    fields["Amount"] = amount
    fields.update(extra)
    return "<Accrual>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</Accrual>"


def accruals_xml(*records: str, encoding: str = "utf-8") -> bytes:
    """A whole file, one record per line (so record N is on line N + 2)."""
    body = f'<?xml version="1.0" encoding="{encoding}"?>\n<Accruals version="1">\n' + "\n".join(records) + "\n</Accruals>\n"
    return body.encode(encoding)
