"""Russian phone numbers as people write them → the stored form ``+7XXXXXXXXXX`` (spec §6, clients).

Accepted: ``+7 (912) 345-67-89``, ``8 912 345 67 89``, ``89123456789``,
``79123456789``, ``9123456789``, ``8 (343) 123-45-67`` — digits with any
spaces, dashes, dots and brackets, optionally a leading ``+``. The ten digits
after the country code must start with a code of the Russian numbering plan:
mobile 9XX, geographic 3XX, 4XX and 81X–87X, non-geographic 80X (toll-free
8 800 …). Everything else gives ``None``: letters or an extension
("доб. 12"), a wrong digit count, another country's code (``+375 …``), +7
numbers of Kazakhstan (6XX, 7XX), which share the country code but are not
Russian, and 88X/89X, which catches a mobile number written with 8 and one
digit short ("8 912 345 67 8").
"""
from __future__ import annotations

import re

_NOTATION = re.compile(r"\+?[0-9 ()\-.\t]+")
_NOT_DIGIT = re.compile(r"\D")
_RUSSIAN_CODE = re.compile(r"[349]|8[0-7]")


def normalize_phone(text: str | None) -> str | None:
    """``+7XXXXXXXXXX`` for a Russian number in any usual notation, else ``None``."""
    if not text:
        return None
    text = text.strip()
    if not _NOTATION.fullmatch(text):
        return None
    digits = _NOT_DIGIT.sub("", text)
    if text.startswith("+"):
        if len(digits) != 11 or digits[0] != "7":
            return None  # "+8 912 …" or another country
        national = digits[1:]
    elif len(digits) == 11 and digits[0] in "78":
        national = digits[1:]
    elif len(digits) == 10:
        national = digits
    else:
        return None
    if not _RUSSIAN_CODE.match(national):
        return None
    return "+7" + national
