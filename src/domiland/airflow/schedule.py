"""Turn an import/export block's five schedule fields into a cron expression and a readable description.

The block editor stores the schedule as five fields, each either ``*`` or whole numbers separated
by commas (spaces around commas are fine, e.g. ``"0, 30"``):

============  =======  ==========================================
field         range    notes
============  =======  ==========================================
``minute``    0–59
``hour``      0–23
``day``       1–31     day of month
``month``     1–12     1 = January
``weekday``   0–7      0 and 7 are both Sunday, 1 = Monday; 7 is stored as 0
============  =======  ==========================================

A ``*`` means "not considered", so it must not turn into cron's "every": as the help page
promises, minute 19 alone runs hourly at :19 (``19 * * * *``) and hour 2 alone daily at 02:00
(``0 2 * * *``). Hence a ``*`` minute becomes 0 once any larger field is given, and a ``*`` hour
becomes 0 once day, month or weekday is given: day 5 alone is the 5th at 00:00 (``0 0 5 * *``),
minute 19 + day 5 is the 5th at 00:19. All five ``*`` means no schedule, only manual "Run now"
(``None``).

When both day and weekday are given, cron (and so Airflow) runs on either of them, not only when
both match: day 13 + weekday 5 is "every 13th and every Friday".

Ranges (``1-5``), steps (``*/15``) and names (``MON``) are refused: the stored fields have no such form.
Times are wall-clock times in the organisation's zone; the caller passes the zone to the timetable.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime

from cron_descriptor import ExpressionDescriptor, Options
from croniter import CroniterBadDateError, croniter

__all__ = ["FIELDS", "Schedule", "ScheduleError", "describe_cron", "to_cron"]

FIELDS = ("minute", "hour", "day", "month", "weekday")

_RANGES = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12), "weekday": (0, 7)}
_NUMBER = re.compile(r"[0-9]+")  # not str.isdigit/int(): those accept "²", "١" and "1_0"
_YEARS_TO_FIND_A_RUN = 5  # covers a leap year, so day 29 of month 2 is still allowed

_LOCALES = {"ru": "ru_RU", "en": "en_US"}
_MANUAL = {"ru": "только вручную", "en": "manual runs only"}
# cron_descriptor takes weekday/month names from the process locale (English in practice), which
# would leave "только в Monday" in Russian text; these are the forms its phrases need.
_DAY_NAMES = {  # Monday first, like calendar.day_name; Russian after "в" (accusative)
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "ru": ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"),
}
_MONTH_NAMES = {  # Russian after "в" (prepositional)
    "en": ("January", "February", "March", "April", "May", "June",
           "July", "August", "September", "October", "November", "December"),
    "ru": ("январе", "феврале", "марте", "апреле", "мае", "июне",
           "июле", "августе", "сентябре", "октябре", "ноябре", "декабре"),
}


class ScheduleError(ValueError):
    """A schedule field the editor should highlight; ``message`` says what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Schedule:
    """The five fields exactly as the user typed them; validation happens in :meth:`cron`."""

    minute: str = "*"
    hour: str = "*"
    day: str = "*"
    month: str = "*"
    weekday: str = "*"

    def cron(self) -> str | None:
        """Validated, normalised cron for the Airflow timetable; ``None`` means manual runs only."""
        minute, hour, day, month, weekday = (_parse_field(name, getattr(self, name)) for name in FIELDS)
        if (minute, hour, day, month, weekday) == ("*",) * 5:
            return None
        # A '*' below a given field means 0, so "hour 2" is 02:00 once, not every minute of 2 a.m.
        if hour == "*" and (day, month, weekday) != ("*", "*", "*"):
            hour = "0"
        if minute == "*":
            minute = "0"
        cron = f"{minute} {hour} {day} {month} {weekday}"
        try:
            croniter(cron, datetime(2000, 1, 1), max_years_between_matches=_YEARS_TO_FIND_A_RUN).get_next()
        except CroniterBadDateError:
            message = f"day: month {month} has no day {day}, so the block would never run; pick days it has"
            raise ScheduleError("day", message) from None
        return cron

    def describe(self, lang: str = "ru") -> str:
        """Text for the block card, so users can check the schedule means what they meant."""
        return describe_cron(self.cron(), lang)


def to_cron(minute: str, hour: str, day: str, month: str, weekday: str) -> str | None:
    """Cron for the stored fields, or ``None`` when all are ``*``; raises :class:`ScheduleError`."""
    return Schedule(minute, hour, day, month, weekday).cron()


def describe_cron(cron: str | None, lang: str = "ru") -> str:
    """Describe a cron produced by :func:`to_cron` (``None`` = manual) in ``"ru"`` or ``"en"``.

    The cron is described as written (no ``*`` filling), and only the editor's syntax is accepted,
    which keeps the wording predictable.
    """
    if lang not in _LOCALES:
        raise ValueError(f"lang: {lang!r} is not supported, use 'ru' or 'en'")
    if cron is None:
        return _MANUAL[lang]
    parts = cron.split()
    if len(parts) != len(FIELDS):
        raise ScheduleError("cron", f"cron: {cron!r} must have 5 fields: {' '.join(FIELDS)}")
    parts = [_parse_field(name, part) for name, part in zip(FIELDS, parts)]
    options = Options(
        locale_code=_LOCALES[lang], use_24hour_time_format=True, day_of_week_start_index_zero=True
    )
    text = _localise_names(ExpressionDescriptor(" ".join(parts), options).get_description(), lang)
    if lang == "ru":
        text = text.replace(", и ", " и ")  # cron_descriptor keeps the English serial comma
        if parts[1] == "*" and parts[0] not in ("*", "0"):
            text = text.replace(" минут", " минут каждого часа", 1)  # "В 19 минут" alone lacks "hourly"
    return text


def _parse_field(field: str, value: str) -> str:
    """Normalise one field to ``*`` or sorted unique numbers, or say exactly what is wrong."""
    text = str(value).strip()
    if text == "*":
        return text
    if not text:
        raise ScheduleError(field, f"{field}: is empty; use * for any, or numbers separated by commas")
    low, high = _RANGES[field]
    numbers: set[int] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            message = f"{field}: {text!r} has an empty item; separate numbers with single commas"
            raise ScheduleError(field, message)
        if not _NUMBER.fullmatch(item):
            raise ScheduleError(field, f"{field}: {item!r} is not a whole number; {_hint(field, item)}")
        number = int(item)
        if not low <= number <= high:
            raise ScheduleError(field, f"{field}: {number} is out of range {low}–{high}")
        numbers.add(0 if field == "weekday" and number == 7 else number)  # one spelling of Sunday
    return ",".join(str(n) for n in sorted(numbers))


def _hint(field: str, item: str) -> str:
    """Point at the supported spelling for the unsupported cron syntax the user likely tried."""
    named = any(char.isalpha() for char in item)
    if named and field == "weekday":
        return "names are not supported, use numbers: 1 = Monday … 6 = Saturday, 0 or 7 = Sunday"
    if named and field == "month":
        return "names are not supported, use numbers: 1 = January … 12 = December"
    if "*" in item or "/" in item:
        return "steps like */15 and '*' inside a list are not supported, list the numbers: 0,15,30,45"
    if "-" in item:
        return "ranges like 1-5 and negative numbers are not supported, list the numbers: 1,2,3,4,5"
    return "use * for any, or numbers separated by commas"


def _localise_names(text: str, lang: str) -> str:
    """Swap the process-locale weekday/month names cron_descriptor used for fixed ``lang`` ones."""
    names = dict(zip(calendar.day_name, _DAY_NAMES[lang]))
    names.update(zip(calendar.month_name[1:], _MONTH_NAMES[lang]))
    pattern = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.sub(rf"\b(?:{pattern})\b", lambda m: names[m.group()], text)
