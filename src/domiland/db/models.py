"""Tables of the hub database: settings (organizations, FTP, blocks), the CRM slice and the integration log.

SQLAlchemy 2 declarative models; the schema itself is owned by the Alembic
history in ``migrations/`` (its own version table, apart from Airflow's).
"""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    JSON, Boolean, DateTime, Enum, ForeignKey, Index, Integer, MetaData, Numeric, String, Text,
    UniqueConstraint,
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


class IntegrationLog(Base):
    """LOG-1..3: one row per operation, mirrored from Airflow's run states (LOG-4)."""

    __tablename__ = "integration_log"
    __table_args__ = (
        UniqueConstraint("dag_id", "run_id"),
        Index("ix_integration_log_org_created", "organization_id", "created_at"),
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
