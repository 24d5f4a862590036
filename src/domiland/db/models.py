"""Tables of the hub database: settings (organizations, FTP, blocks), the CRM slice and the integration log.

SQLAlchemy 2 declarative models; the schema itself is owned by the Alembic
history in ``migrations/`` (its own version table, apart from Airflow's).
"""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, Enum, ForeignKey, Index, Integer, MetaData, Numeric, String, Text,
    UniqueConstraint, literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _str_enum(cls: type[enum.Enum]) -> Enum:
    # Stored as the value text (portable, readable in SQL), checked by the application.
    return Enum(cls, native_enum=False, values_callable=lambda e: [m.value for m in e],
                validate_strings=True, length=32)


class OrganizationKind(str, enum.Enum):
    MANAGEMENT = "management"
    """Management company (УО), the "Эксплуатация" space."""
    DEVELOPER = "developer"
    """Property developer (застройщик), the "Строительство" space."""


class DataType(str, enum.Enum):
    """What a block moves; the value is part of the generated dag_id."""

    ACCRUALS = "accruals"
    PAYMENTS = "payments"
    METER_READINGS = "meter_readings"
    BUILDINGS = "buildings"
    CLIENTS = "clients"
    NEWS = "news"
    OFFERS = "offers"


class Method(str, enum.Enum):
    XML = "XML"
    """Files on the organization's FTP/FTPS server."""
    URL = "URL"
    """Feeds by URL, API imports and uploads (the help page's naming)."""


class LogStatus(str, enum.Enum):
    RUNNING = "Running"
    """Выполняется: the operation is in progress."""
    DONE = "Done"
    """Выполнено: no errors and no warnings."""
    ERROR = "Error"
    """Ошибка: failed; data before the error may have been processed."""
    WARNING = "Warning"
    """Предупреждение: all processed except what the message lists."""
    DUPLICATE = "Duplicate"
    """Дубликат: an API import identical to one of the last three days."""


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[OrganizationKind] = mapped_column(_str_enum(OrganizationKind))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    ftp: Mapped[FtpConnection | None] = relationship(back_populates="organization", uselist=False)
    import_blocks: Mapped[list[ImportBlock]] = relationship(back_populates="organization")
    export_blocks: Mapped[list[ExportBlock]] = relationship(back_populates="organization")


class FtpConnection(Base):
    """FTP-1: one server per organization, shared by all its blocks (FTP-4)."""

    __tablename__ = "ftp_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=21)
    use_tls: Mapped[bool] = mapped_column(Boolean, default=False)
    username: Mapped[str] = mapped_column(String(255), default="anonymous")
    password_encrypted: Mapped[str] = mapped_column(Text, default="")
    """Fernet token (FTP-3); never the plain password."""
    root_dir: Mapped[str] = mapped_column(String(1024), default="/")
    force_utf8: Mapped[bool] = mapped_column(Boolean, default=True)
    passive: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="ftp")


class _ScheduleColumns:
    """SCH-1: the five fields as the user typed them ('*' or comma lists)."""

    schedule_minute: Mapped[str] = mapped_column(String(200), default="*")
    schedule_hour: Mapped[str] = mapped_column(String(100), default="*")
    schedule_day: Mapped[str] = mapped_column(String(100), default="*")
    schedule_month: Mapped[str] = mapped_column(String(50), default="*")
    schedule_weekday: Mapped[str] = mapped_column(String(50), default="*")


class ImportBlock(_ScheduleColumns, Base):
    __tablename__ = "import_blocks"
    __table_args__ = (UniqueConstraint("organization_id", "data_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    data_type: Mapped[DataType] = mapped_column(_str_enum(DataType))
    method: Mapped[Method] = mapped_column(_str_enum(Method), default=Method.XML)
    paths: Mapped[str] = mapped_column(Text, default="")
    """IMP-2: one path/URL or several separated by commas."""
    delete_after_read: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="import_blocks")


class ExportBlock(_ScheduleColumns, Base):
    __tablename__ = "export_blocks"
    __table_args__ = (UniqueConstraint("organization_id", "data_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    data_type: Mapped[DataType] = mapped_column(_str_enum(DataType))
    method: Mapped[Method] = mapped_column(_str_enum(Method), default=Method.XML)
    directory: Mapped[str] = mapped_column(String(1024), default="")
    """EXP-2: empty means the FTP root directory."""
    filename_template: Mapped[str] = mapped_column(String(255))
    """EXP-3: strftime codes, e.g. ``payments_%Y%m%d_%H%M%S.xml``; the date is the window's end."""
    skip_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    """An empty window uploads no file (default: an empty, valid file, so the partner sees the run)."""
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="export_blocks")


class Account(Base):
    """A personal account (лицевой счёт) of an organization."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(64))
    premise_id: Mapped[int | None] = mapped_column(ForeignKey("premises.id", ondelete="SET NULL"), nullable=True,
                                                   index=True)
    gis_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Number of the account in ГИС ЖКХ."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Service(Base):
    """A billed service (e.g. cold water), created on first sight by an accruals import."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)


class Accrual(Base):
    """One service's charge for one account and period; natural key IMP-8 / spec §6."""

    __tablename__ = "accruals"
    __table_args__ = (UniqueConstraint("account_id", "period", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    tariff: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    volume: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Numeric)
    recalculation: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    benefit: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    penalty: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    debt: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    paid: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    total_payable: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Payment(Base):
    """A payment to an account; key organization + PaymentId (spec §6)."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("organization_id", "payment_id"),
                      Index("ix_payments_org_created", "organization_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    payment_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount: Mapped[Decimal] = mapped_column(Numeric)
    period: Mapped[str | None] = mapped_column(String(7), nullable=True)
    service_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    purpose: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    """When the hub first stored it: export windows (EXP-4) select by this."""
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Meter(Base):
    """An individual meter (ИПУ) of an account; created by a reading that names its resource."""

    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    resource: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MeterReading(Base):
    """One reading of a meter on a date; key organization + MeterNumber + Date (spec §6)."""

    __tablename__ = "meter_readings"
    __table_args__ = (UniqueConstraint("meter_id", "reading_date"),
                      Index("ix_meter_readings_org_created", "organization_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    reading_date: Mapped[date] = mapped_column(Date)
    value1: Mapped[Decimal] = mapped_column(Numeric)
    value2: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    value3: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    """When the hub first stored it: export windows (EXP-4) select by this."""
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("organization_id", "ext_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    ext_id: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(512))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Premise(Base):
    """An apartment, parking place, storage room or commercial premise of a building."""

    __tablename__ = "premises"
    __table_args__ = (UniqueConstraint("organization_id", "ext_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)
    ext_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    floor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    area: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Client(Base):
    """A resident or owner; matched by external ids and phone (IMP-12)."""

    __tablename__ = "clients"
    __table_args__ = (Index("ix_clients_org_phone", "organization_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    last_name: Mapped[str] = mapped_column(String(128))
    first_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    middle_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    phone: Mapped[str] = mapped_column(String(16))
    """Normalised ``+7XXXXXXXXXX``."""
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ClientExternalId(Base):
    """An id a client has in an outside system; a client may hold several (IMP-12)."""

    __tablename__ = "client_external_ids"
    __table_args__ = (UniqueConstraint("organization_id", "ext_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    ext_id: Mapped[str] = mapped_column(String(64))


class ClientAccount(Base):
    __tablename__ = "client_accounts"
    __table_args__ = (UniqueConstraint("client_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class NewsItem(Base):
    """A news item from an RSS 2.0 / Atom feed; key guid, else link (IMP-10)."""

    __tablename__ = "news"
    __table_args__ = (UniqueConstraint("organization_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(1024))
    title: Mapped[str] = mapped_column(String(1024))
    link: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OfferStatus(str, enum.Enum):
    ACTIVE = "active"
    """In the latest feed."""
    WITHDRAWN = "withdrawn"
    """Missing from a newer feed: kept, not deleted (IMP-10)."""


class Offer(Base):
    """A showcase (Витрина) offer from a Yandex.Realty feed; key ``offer/@internal-id``."""

    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("organization_id", "internal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    internal_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    price: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(8), nullable=True)
    area: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    rooms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    floor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    images: Mapped[list | None] = mapped_column(JSON, nullable=True)
    deal_status: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[OfferStatus] = mapped_column(_str_enum(OfferStatus), default=OfferStatus.ACTIVE)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExportRun(Base):
    """A window an export block covered (EXP-4): what was exported, when, into which file."""

    __tablename__ = "export_runs"
    __table_args__ = (Index("ix_export_runs_block_end", "block_id", "window_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("export_blocks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    """``scheduled``, ``manual`` or ``backfill``: how the window was chosen."""
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dag_id: Mapped[str | None] = mapped_column(String(250), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(250), nullable=True)
    file_name: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """A partner system's key for one organization; only a hash is stored, the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    """The key's public part (``dml_<prefix>_…``), to find the row without scanning hashes."""
    key_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the whole key (keys are 190-bit random: a slow hash would add nothing)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ApiImport(Base):
    """An import request received through the API (IMP-11): its body hash finds duplicates within 3 days."""

    __tablename__ = "api_imports"
    __table_args__ = (Index("ix_api_imports_dedup", "organization_id", "data_type", "body_hash", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    data_type: Mapped[DataType] = mapped_column(_str_enum(DataType))
    body_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the canonical body (JSON re-serialised with sorted keys, or the XML bytes)."""
    log_entry_id: Mapped[int | None] = mapped_column(ForeignKey("integration_log.id", ondelete="SET NULL"),
                                                     nullable=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("api_imports.id", ondelete="SET NULL"),
                                                     nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IntegrationLog(Base):
    """LOG-1..3: one row per operation, mirrored from Airflow's run states (LOG-4)."""

    __tablename__ = "integration_log"
    __table_args__ = (
        UniqueConstraint("dag_id", "run_id"),
        Index("ix_integration_log_org_created", "organization_id", "created_at"),
        # PostgreSQL only (migration 0005): trigram GIN for the log search, message ILIKE '%…%'. Declared
        # by name (literal_column) so that SQLite, which never gets it, skips it when comparing schemas.
        Index("ix_integration_log_message_trgm", literal_column("message"), postgresql_using="gin",
              postgresql_ops={"message": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[LogStatus] = mapped_column(_str_enum(LogStatus), index=True)
    task_type: Mapped[str] = mapped_column(String(64), index=True)
    """Machine name, e.g. ``import_accruals``; the UI shows :attr:`task_title` + id."""
    task_title: Mapped[str] = mapped_column(String(128))
    """Human name, e.g. "Импорт начислений"."""
    method: Mapped[Method] = mapped_column(_str_enum(Method), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    """Counts, warnings and the first error, as the import report produced them."""
    dag_id: Mapped[str | None] = mapped_column(String(250), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(250), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    @property
    def task(self) -> str:
        """LOG-2 "task": type name and number, e.g. "Импорт начислений 42"."""
        return f"{self.task_title} {self.id}"
