"""Request and response bodies of the hub API, split by direction (``XCreate`` / ``XUpdate`` / ``XPublic``).

These are pydantic models, separate from the SQLAlchemy tables in ``domiland.db.models``: the API
can rename, hide (the FTP password) or derive (dag_id, schedule text) fields without touching the
schema of the database.

Input models forbid unknown fields, so a typo (``"enable": false``) is a 422 naming it instead of
a silent no-op. They check form only (types, lengths, no control characters); rules that need the
database or the domain code (schedules, paths, methods, FTP present) live in
``domiland.api.settings_service`` and answer 422 in the same shape: ``{"detail": [{"loc": [...],
"msg": ..., "type": ...}]}``.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime, timezone
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

from domiland.db.models import DataType, Method, OrganizationKind

T = TypeVar("T")

MAX_ID = 2**31 - 1
"""Ids are 32-bit in the hub database; a larger number in a path is a 422, not a database overflow."""


def _single_line(value: str) -> str:
    """Refuse control characters and lone surrogates: they break FTP commands, logs and PostgreSQL text."""
    for index, char in enumerate(value):
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"contains a control character (U+{ord(char):04X}) at position {index + 1}; "
                             "remove it (line breaks and tabs are not allowed here)")
    return value


def _number_to_text(value: object) -> object:
    # A schedule field typed as 5 instead of "5" means the same thing.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; the hub stores UTC.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


Text = Annotated[str, AfterValidator(_single_line)]
Timestamp = Annotated[datetime, AfterValidator(_utc)]
ScheduleField = Annotated[str, BeforeValidator(_number_to_text), AfterValidator(_single_line),
                          Field(max_length=200, examples=["*", "0", "0,30"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListOf(BaseModel, Generic[T]):
    """A list envelope: the items and how many there are in total (before ``limit``/``offset``)."""

    data: list[T]
    count: int


class Problem(BaseModel):
    """An error: ``detail`` says what failed and what to do; 422s list the fields (``loc``)."""

    detail: str | list[dict]


# --- organizations ----------------------------------------------------------------------------

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class OrganizationCreate(_In):
    code: Text = Field(min_length=1, max_length=64, examples=["uk-north"],
                       description="Lowercase latin letters, digits and '-'; part of every DAG id "
                                   f"(`<code>.import.accruals`), so it cannot be changed later. Pattern {CODE_PATTERN}")
    name: Text = Field(min_length=1, max_length=255, examples=["УК «Северная»"])
    kind: OrganizationKind
    timezone: Text = Field("Europe/Moscow", min_length=1, max_length=64,
                           description="IANA time zone the schedules are evaluated in (SCH-2).")


class OrganizationUpdate(_In):
    """Only the fields sent are changed. The code is fixed: it is part of the DAG ids and of the log."""

    name: Text | None = Field(None, min_length=1, max_length=255)
    kind: OrganizationKind | None = None
    timezone: Text | None = Field(None, min_length=1, max_length=64)


class OrganizationPublic(BaseModel):
    id: int
    code: str
    name: str
    kind: OrganizationKind
    timezone: str
    ftp_configured: bool
    created_at: Timestamp


# --- FTP settings (FTP-1) ---------------------------------------------------------------------


class FtpSettingsUpdate(_In):
    """The organization's FTP server, replaced as a whole — except the password, which is kept when omitted."""

    host: Text = Field(min_length=1, max_length=240, examples=["ftp.example.ru"],  # the pool name fits in 256
                       description="Host name or IP address only, without ftp:// and without a path.")
    port: int = Field(21, ge=1, le=65535)
    use_tls: bool = Field(False, description="Explicit FTPS (AUTH TLS); the certificate is always verified.")
    username: Text = Field("anonymous", min_length=1, max_length=255)
    password: SecretStr | None = Field(
        None, max_length=1024,
        description="Write-only: never returned. Omit (or null) to keep the stored one; an empty string clears it.")
    root_dir: Text = Field("/", min_length=1, max_length=1024, description="Directory the relative paths start from.")
    force_utf8: bool = Field(True, description="Send OPTS UTF8 ON (Cyrillic file names).")
    passive: bool = True


class FtpSettingsPublic(BaseModel):
    organization_id: int
    host: str
    port: int
    use_tls: bool
    username: str
    password_set: bool = Field(description="Whether a password is stored; the password itself is never returned.")
    root_dir: str
    force_utf8: bool
    passive: bool
    pool: str = Field(description="The Airflow pool that caps concurrent sessions to this server.")
    updated_at: Timestamp


class FtpTestResult(BaseModel):
    """FTP-2: ``{"status": "OK"}``, or ``"error"`` with the reason and its kind."""

    status: Literal["OK", "error"]
    reason: str | None = Field(None, description="What failed and what to check (never the password).")
    kind: Literal["settings", "dns", "refused", "timeout", "connect", "tls", "login", "directory", "other"] | None = (
        Field(None, description="What failed: settings missing, DNS, connection refused, timeout, another "
                                "connection failure, TLS, login, the root directory, or something else."))


# --- blocks ------------------------------------------------------------------------------------


class ScheduleIn(_In):
    """SCH-1: the five fields, each ``*`` or whole numbers separated by commas. Sent as a whole."""

    minute: ScheduleField = "*"
    hour: ScheduleField = "*"
    day: ScheduleField = "*"
    month: ScheduleField = "*"
    weekday: ScheduleField = "*"


class ScheduleText(BaseModel):
    ru: str
    en: str


class SchedulePublic(BaseModel):
    minute: str
    hour: str
    day: str
    month: str
    weekday: str
    cron: str | None = Field(description="What Airflow runs (in the organization's time zone); null: manual only.")
    description: ScheduleText


class AirflowDagState(BaseModel):
    """The block's DAG as Airflow knows it now (it appears within a minute after a save)."""

    parsed: bool = Field(description="The DAG is in Airflow (serialized and not stale).")
    paused: bool | None = Field(description="null while the DAG has never been parsed.")


ImportDataType = Literal["accruals", "payments", "meter_readings", "buildings", "clients", "news", "offers"]
ExportDataType = Literal["payments", "meter_readings"]
Email = Annotated[Text, Field(max_length=255, examples=["ops@example.ru, 1c@example.ru"],
                              description="Addresses for run reports (MAIL-1), separated by commas.")]


class ImportBlockCreate(_In):
    data_type: ImportDataType
    method: Method | None = Field(None, description="XML (files on FTP) or URL (feeds); defaults to the data type's.")
    paths: Text = Field(min_length=1, max_length=10000,
                        description="IMP-2: FTP paths (XML) or http(s) URLs (URL), separated by commas; "
                                    "may contain {date} or {date:%Y%m%d}.",
                        examples=["/exports/accruals_{date:%Y%m%d}.xml"])
    delete_after_read: bool = False
    email: Email | None = None
    enabled: bool = True
    schedule: ScheduleIn = Field(default_factory=ScheduleIn)


class ImportBlockUpdate(_In):
    """Only the fields sent are changed; ``schedule`` is replaced as a whole. The data type is fixed."""

    method: Method | None = None
    paths: Text | None = Field(None, min_length=1, max_length=10000)
    delete_after_read: bool | None = None
    email: Email | None = None
    enabled: bool | None = None
    schedule: ScheduleIn | None = None


class ExportBlockCreate(_In):
    data_type: ExportDataType
    method: Literal["XML"] = "XML"
    directory: Text = Field("", max_length=1024, description="EXP-2: target directory; empty = the FTP root.")
    filename_template: Text = Field(min_length=1, max_length=255, examples=["payments_%Y%m%d_%H%M%S.xml"],
                                    description="EXP-3: strftime codes, dated by the window's end.")
    skip_empty: bool = False
    email: Email | None = None
    enabled: bool = True
    schedule: ScheduleIn = Field(default_factory=ScheduleIn)


class ExportBlockUpdate(_In):
    """Only the fields sent are changed; ``schedule`` is replaced as a whole. The data type is fixed."""

    directory: Text | None = Field(None, max_length=1024)
    filename_template: Text | None = Field(None, min_length=1, max_length=255)
    skip_empty: bool | None = None
    email: Email | None = None
    enabled: bool | None = None
    schedule: ScheduleIn | None = None


class _BlockPublic(BaseModel):
    id: int
    organization_id: int
    data_type: DataType
    method: Method
    title: str = Field(description='The log\'s task name, e.g. "Импорт начислений".')
    email: str | None
    enabled: bool
    schedule: SchedulePublic
    dag_id: str
    airflow: AirflowDagState
    created_at: Timestamp
    updated_at: Timestamp


class ImportBlockPublic(_BlockPublic):
    direction: Literal["import"] = "import"
    paths: str = Field(description="As saved; credentials inside a feed URL are shown as ***.")
    delete_after_read: bool


class ExportBlockPublic(_BlockPublic):
    direction: Literal["export"] = "export"
    directory: str
    filename_template: str
    skip_empty: bool


# --- runs (IMP-4, EXP-6) -------------------------------------------------------------------------


class RunStarted(BaseModel):
    """A manual run queued in Airflow and its row in the operations log."""

    dag_id: str
    run_id: str
    log_entry_id: int = Field(description='The operations log row ("task number") of this run.')
    airflow_url: str = Field(description="The run in the Airflow UI.")
    state: str = Field(description="Airflow's state of the run when it was created (queued).")
    dag_paused: bool = Field(description="When true the run waits until the DAG is unpaused in Airflow.")


_DESCRIPTIONS = {
    401: "No or invalid credentials: an Airflow JWT (staff) or an organization's X-API-Key (partner).",
    403: "Only Domiland staff may do this.",
    404: "Not found — also any organization a partner key does not belong to.",
    409: "Conflicts with the current state; the message says what to do.",
    422: "Invalid input; each item's loc names the field and msg says how to fix it.",
}


def responses(*codes: int) -> dict[int | str, dict]:
    """OpenAPI entries for the error answers a route gives (401 always)."""
    return {code: {"model": Problem, "description": _DESCRIPTIONS[code]} for code in sorted({401, *codes})}
