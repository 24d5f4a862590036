"""Block schedule fields → cron → description, and the cron as Airflow's timetable reads it."""

from __future__ import annotations

import pendulum
import pytest

from domiland.airflow.schedule import FIELDS, Schedule, ScheduleError, describe_cron, to_cron


@pytest.mark.parametrize(
    ("fields", "cron"),
    [
        # seed examples from the help page
        ({"minute": "19"}, "19 * * * *"),
        ({"minute": "19", "hour": "22"}, "19 22 * * *"),
        ({"hour": "2"}, "0 2 * * *"),
        # a '*' below a given field means 0
        ({"day": "5"}, "0 0 5 * *"),
        ({"month": "3"}, "0 0 * 3 *"),
        ({"weekday": "1"}, "0 0 * * 1"),
        ({"minute": "1", "day": "5"}, "1 0 5 * *"),
        ({"minute": "0"}, "0 * * * *"),
        # comma lists, spaces around commas tolerated
        ({"minute": "0, 30"}, "0,30 * * * *"),
        ({"minute": " 15 ,45 ", "hour": "8,20"}, "15,45 8,20 * * *"),
        ({"hour": "9", "weekday": "1,3,5"}, "0 9 * * 1,3,5"),
        ({"hour": "6", "day": "1,15", "month": "1,7"}, "0 6 1,15 1,7 *"),
        # Sunday is 0 or 7, stored as 0
        ({"hour": "9", "weekday": "7"}, "0 9 * * 0"),
        ({"hour": "9", "weekday": "0"}, "0 9 * * 0"),
        ({"hour": "9", "weekday": "0,7"}, "0 9 * * 0"),
        ({"hour": "9", "weekday": "7,1"}, "0 9 * * 0,1"),
        # normalisation: sorted, de-duplicated, leading zeros dropped
        ({"minute": "5,1,5"}, "1,5 * * * *"),
        ({"minute": "05", "hour": "09"}, "5 9 * * *"),
        ({"hour": "23,0,12,0"}, "0 0,12,23 * * *"),
        # boundaries
        ({"minute": "59", "hour": "23", "day": "31", "month": "12", "weekday": "6"}, "59 23 31 12 6"),
        ({"minute": "0", "hour": "0", "day": "1", "month": "1", "weekday": "0"}, "0 0 1 1 0"),
        # rare but real dates are accepted
        ({"day": "29", "month": "2"}, "0 0 29 2 *"),
        ({"day": "30", "month": "2,4"}, "0 0 30 2,4 *"),
        # day and weekday together fire on either (cron OR), so Feb 31 + Monday still runs
        ({"day": "31", "month": "2", "weekday": "1"}, "0 0 31 2 1"),
        # all '*': manual runs only
        ({}, None),
        ({name: " * " for name in FIELDS}, None),
    ],
)
def test_cron(fields: dict[str, str], cron: str | None) -> None:
    assert Schedule(**fields).cron() == cron
    assert to_cron(**{name: fields.get(name, "*") for name in FIELDS}) == cron


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        # out of range, every field, both ends
        ({"minute": "60"}, "minute", "minute: 60 is out of range 0–59"),
        ({"hour": "24"}, "hour", "hour: 24 is out of range 0–23"),
        ({"day": "0"}, "day", "day: 0 is out of range 1–31"),
        ({"day": "32"}, "day", "day: 32 is out of range 1–31"),
        ({"month": "0"}, "month", "month: 0 is out of range 1–12"),
        ({"month": "13"}, "month", "month: 13 is out of range 1–12"),
        ({"weekday": "8"}, "weekday", "weekday: 8 is out of range 0–7"),
        ({"hour": "1, 2, 99"}, "hour", "hour: 99 is out of range 0–23"),
        # malformed
        ({"minute": ""}, "minute", "minute: is empty; use * for any, or numbers separated by commas"),
        ({"hour": "  "}, "hour", "hour: is empty; use * for any, or numbers separated by commas"),
        (
            {"minute": "1-5"},
            "minute",
            "minute: '1-5' is not a whole number; ranges like 1-5 and negative numbers are not supported, "
            "list the numbers: 1,2,3,4,5",
        ),
        (
            {"day": "-1"},
            "day",
            "day: '-1' is not a whole number; ranges like 1-5 and negative numbers are not supported, "
            "list the numbers: 1,2,3,4,5",
        ),
        (
            {"minute": "*/15"},
            "minute",
            "minute: '*/15' is not a whole number; steps like */15 and '*' inside a list are not supported, "
            "list the numbers: 0,15,30,45",
        ),
        (
            {"hour": "*,5"},
            "hour",
            "hour: '*' is not a whole number; steps like */15 and '*' inside a list are not supported, "
            "list the numbers: 0,15,30,45",
        ),
        (
            {"weekday": "MON"},
            "weekday",
            "weekday: 'MON' is not a whole number; names are not supported, "
            "use numbers: 1 = Monday … 6 = Saturday, 0 or 7 = Sunday",
        ),
        (
            {"month": "jan"},
            "month",
            "month: 'jan' is not a whole number; names are not supported, "
            "use numbers: 1 = January … 12 = December",
        ),
        (
            {"minute": "1.5"},
            "minute",
            "minute: '1.5' is not a whole number; use * for any, or numbers separated by commas",
        ),
        (
            {"hour": "1 2"},
            "hour",
            "hour: '1 2' is not a whole number; use * for any, or numbers separated by commas",
        ),
        (
            {"day": "²"},
            "day",
            "day: '²' is not a whole number; use * for any, or numbers separated by commas",
        ),
        ({"day": "1,,2"}, "day", "day: '1,,2' has an empty item; separate numbers with single commas"),
        ({"month": "1,"}, "month", "month: '1,' has an empty item; separate numbers with single commas"),
        ({"weekday": ",1"}, "weekday",
         "weekday: ',1' has an empty item; separate numbers with single commas"),
        # dates that never come, so the block would silently never run
        (
            {"day": "31", "month": "2"},
            "day",
            "day: month 2 has no day 31, so the block would never run; pick days it has",
        ),
        (
            {"day": "30,31", "month": "2"},
            "day",
            "day: month 2 has no day 30,31, so the block would never run; pick days it has",
        ),
        (
            {"minute": "15", "hour": "3", "day": "31", "month": "4,6,9,11"},
            "day",
            "day: month 4,6,9,11 has no day 31, so the block would never run; pick days it has",
        ),
    ],
)
def test_invalid_fields_name_the_field(fields: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        Schedule(**fields).cron()
    assert caught.value.field == field
    assert caught.value.message == message
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ScheduleError, match=f"^{field}: "):
        to_cron(**{name: fields.get(name, "*") for name in FIELDS})


@pytest.mark.parametrize(
    ("fields", "ru", "en"),
    [
        ({"minute": "19"}, "В 19 минут каждого часа", "At 19 minutes past the hour"),
        ({"minute": "19", "hour": "22"}, "В 22:19", "At 22:19"),
        ({"hour": "2"}, "В 02:00", "At 02:00"),
        ({"minute": "0"}, "Каждый час", "Every hour"),
        ({"minute": "0, 30"}, "В 0 и 30 минут каждого часа", "At 0 and 30 minutes past the hour"),
        ({"hour": "0,12"}, "В 00:00 и 12:00", "At 00:00 and 12:00"),
        ({"day": "5"}, "В 00:00, в 5 число месяца", "At 00:00, on day 5 of the month"),
        (
            {"minute": "30", "hour": "8", "day": "1,15"},
            "В 08:30, в 1 и 15 число месяца",
            "At 08:30, on day 1 and 15 of the month",
        ),
        (
            {"hour": "9", "weekday": "1,3,5"},
            "В 09:00, только в понедельник, среду и пятницу",
            "At 09:00, only on Monday, Wednesday, and Friday",
        ),
        ({"hour": "9", "weekday": "7"}, "В 09:00, только в воскресенье", "At 09:00, only on Sunday"),
        (
            {"minute": "5", "hour": "1,2", "month": "6,7"},
            "В 01:05 и 02:05, только в июне и июле",
            "At 01:05 and 02:05, only in June and July",
        ),
        (
            {"hour": "9", "day": "13", "weekday": "5"},
            "В 09:00, в 13 число месяца, или в пятницу",
            "At 09:00, on day 13 of the month, or on Friday",
        ),
        ({}, "только вручную", "manual runs only"),
    ],
)
def test_describe(fields: dict[str, str], ru: str, en: str) -> None:
    schedule = Schedule(**fields)
    assert schedule.describe() == ru
    assert schedule.describe("ru") == ru
    assert schedule.describe("en") == en
    assert describe_cron(schedule.cron(), "en") == en


def test_describe_cron_describes_the_cron_as_written() -> None:
    assert describe_cron(None) == "только вручную"
    assert describe_cron("* 2 * * *", "en") == "Every minute, between 02:00 and 02:59"


@pytest.mark.parametrize(
    ("cron", "lang", "error", "message"),
    [
        ("0 2 * * *", "de", ValueError, "lang: 'de' is not supported, use 'ru' or 'en'"),
        ("0 2 * *", "ru", ScheduleError, "cron: '0 2 * *' must have 5 fields: minute hour day month weekday"),
        ("0 24 * * *", "ru", ScheduleError, "hour: 24 is out of range 0–23"),
        ("*/5 * * * *", "en", ScheduleError, "minute: '*/5' is not a whole number"),
    ],
)
def test_describe_cron_refuses(cron: str, lang: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        describe_cron(cron, lang)
    assert str(caught.value).startswith(message)


def test_schedule_is_a_frozen_value() -> None:
    schedule = Schedule(minute="19")
    assert schedule == Schedule("19", "*", "*", "*", "*")
    with pytest.raises(AttributeError):
        schedule.minute = "20"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("fields", "earliest", "expected"),
    [
        # Moscow wall-clock times; earliest is a Wednesday
        ({"minute": "19"}, (2025, 1, 8, 10, 0), (2025, 1, 8, 10, 19)),
        ({"minute": "19"}, (2025, 1, 8, 10, 20), (2025, 1, 8, 11, 19)),
        ({"minute": "19", "hour": "22"}, (2025, 1, 8, 23, 0), (2025, 1, 9, 22, 19)),
        ({"hour": "2"}, (2025, 1, 8, 3, 0), (2025, 1, 9, 2, 0)),
        ({"day": "5"}, (2025, 1, 8, 0, 0), (2025, 2, 5, 0, 0)),
        ({"hour": "9", "weekday": "7"}, (2025, 1, 8, 0, 0), (2025, 1, 12, 9, 0)),
        ({"hour": "9", "weekday": "1,5"}, (2025, 1, 8, 0, 0), (2025, 1, 10, 9, 0)),
        ({"day": "29", "month": "2"}, (2025, 1, 8, 0, 0), (2028, 2, 29, 0, 0)),
    ],
)
def test_airflow_timetable_runs_at_local_time(
    fields: dict[str, str], earliest: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable

    cron = Schedule(**fields).cron()
    assert cron is not None
    timetable = CronTriggerTimetable(cron, timezone="Europe/Moscow")
    timetable.validate()
    # catchup=True keeps the answer independent of today's date
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(
            earliest=pendulum.datetime(*earliest, tz="Europe/Moscow"), latest=None, catchup=True
        ),
    )
    assert info is not None
    assert info.run_after == pendulum.datetime(*expected, tz="Europe/Moscow")
    assert info.run_after.in_timezone("Europe/Moscow").hour == expected[3]
