"""Read-only snapshots of the blocks that Airflow turns into DAGs and runs.

The DAG factory and the tasks share these plain dataclasses, so nothing that
runs inside Airflow holds an ORM session open longer than one query.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from domiland import secrets
from domiland.config import get_config
from domiland.db.engine import session_scope
from domiland.db.models import DataType, ExportBlock, FtpConnection, ImportBlock, Method, Organization
from domiland.exchange.paths import split_paths

if TYPE_CHECKING:
    from domiland.transports.ftp import FtpSettings

TITLES_RU = {
    ("import", DataType.ACCRUALS): "Импорт начислений",
    ("import", DataType.PAYMENTS): "Импорт платежей",
    ("import", DataType.METER_READINGS): "Импорт показаний ИПУ",
    ("import", DataType.BUILDINGS): "Импорт объектов",
    ("import", DataType.CLIENTS): "Импорт клиентов",
    ("import", DataType.NEWS): "Импорт новостей",
    ("import", DataType.OFFERS): "Импорт витрины",
    ("export", DataType.PAYMENTS): "Экспорт платежей",
    ("export", DataType.METER_READINGS): "Экспорт показаний ИПУ",
}

_DAG_ID = re.compile(r"^(?P<org>[a-z0-9][a-z0-9-]*)\.(?P<direction>import|export)\.(?P<data_type>[a-z_]+)$")


class HubDatabaseError(RuntimeError):
    """The hub database cannot be read: generating DAGs must fail loudly, not yield none."""


@dataclass(frozen=True)
class BlockSpec:
    """Everything a DAG and its task need to know about one block."""

    direction: str  # "import" | "export"
    block_id: int
    organization_id: int
    org_code: str
    org_name: str
    timezone: str
    data_type: DataType
    method: Method
    paths: str
    delete_after_read: bool
    email: str | None
    schedule: tuple[str, str, str, str, str]
    updated_at: datetime | None
    ftp_address: str | None = None
    """``host:port`` of the organization's FTP server (for the per-host pool), if set."""
    directory: str = ""
    """Exports: the target directory (EXP-2; empty = the FTP root)."""
    filename_template: str = ""
    skip_empty: bool = False

    @property
    def dag_id(self) -> str:
        return dag_id_for(self.org_code, self.direction, self.data_type)

    @property
    def task_type(self) -> str:
        return f"{self.direction}_{self.data_type.value}"

    @property
    def title_ru(self) -> str:
        return TITLES_RU[(self.direction, self.data_type)]

    def path_list(self) -> list[str]:
        """IMP-2: comma-separated addresses, blanks dropped, order kept (placeholders unexpanded)."""
        return split_paths(self.paths)


def dag_id_for(org_code: str, direction: str, data_type: DataType | str) -> str:
    """``<org code>.<import|export>.<data type>``: readable, and parsed back by the log listener."""
    return f"{org_code}.{direction}.{DataType(data_type).value}"


def parse_dag_id(dag_id: str) -> tuple[str, str, DataType] | None:
    """(org code, direction, data type) of a hub DAG; ``None`` for any other DAG."""
    m = _DAG_ID.match(dag_id)
    if not m or m["data_type"] not in DataType._value2member_map_:
        return None
    return m["org"], m["direction"], DataType(m["data_type"])


def _select(block_model):
    return (select(block_model, Organization, FtpConnection.host, FtpConnection.port)
            .join(Organization, block_model.organization_id == Organization.id)
            .outerjoin(FtpConnection, FtpConnection.organization_id == Organization.id)
            .order_by(Organization.code, block_model.data_type))


def list_block_specs(*, enabled_only: bool = True) -> list[BlockSpec]:
    """All (enabled) import and export blocks with their organization: one query per block table."""
    try:
        with session_scope() as session:
            specs = []
            for model in (ImportBlock, ExportBlock):
                stmt = _select(model)
                if enabled_only:
                    stmt = stmt.where(model.enabled.is_(True))
                specs.extend(_spec(*row) for row in session.execute(stmt))
            return specs
    except SQLAlchemyError as exc:
        raise HubDatabaseError(
            f"Cannot read block settings from the hub database ({get_config().db_url.split('@')[-1]}): "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}. "
            "Is it initialised? Run `domiland db upgrade`.") from exc


def get_block_spec(block_id: int) -> BlockSpec:
    return _get(ImportBlock, block_id, "Import")


def get_export_spec(block_id: int) -> BlockSpec:
    return _get(ExportBlock, block_id, "Export")


def _get(model, block_id: int, what: str) -> BlockSpec:
    with session_scope() as session:
        row = session.execute(_select(model).where(model.id == block_id)).first()
        if row is None:
            raise LookupError(f"{what} block {block_id} does not exist (deleted since the DAG was built?)")
        return _spec(*row)


def get_ftp_settings(organization_id: int) -> FtpSettings:
    """The organization's FTP settings with the password decrypted, for one transport session."""
    from domiland.transports.ftp import FtpSettings  # the FTP hook brings Airflow: only when needed

    cfg = get_config()
    with session_scope() as session:
        ftp = session.scalar(select(FtpConnection).where(FtpConnection.organization_id == organization_id))
        if ftp is None:
            raise LookupError("FTP settings are not filled in for this organization: "
                              "set them in Settings → Integration → Data exchange → Settings")
        return FtpSettings(host=ftp.host, port=ftp.port, use_tls=ftp.use_tls, username=ftp.username,
                           password=secrets.decrypt(ftp.password_encrypted), root_dir=ftp.root_dir or "/",
                           force_utf8=ftp.force_utf8, passive=ftp.passive, timeout=cfg.ftp_timeout,
                           ca_file=cfg.ftp_ca_file)


def _spec(block: ImportBlock | ExportBlock, org: Organization, ftp_host: str | None = None,
          ftp_port: int | None = None) -> BlockSpec:
    is_import = isinstance(block, ImportBlock)
    return BlockSpec(
        direction="import" if is_import else "export", block_id=block.id, organization_id=org.id,
        org_code=org.code, org_name=org.name, timezone=org.timezone, data_type=block.data_type, method=block.method,
        paths=block.paths if is_import else "", delete_after_read=block.delete_after_read if is_import else False,
        email=block.email,
        schedule=(block.schedule_minute, block.schedule_hour, block.schedule_day, block.schedule_month,
                  block.schedule_weekday),
        updated_at=block.updated_at,
        ftp_address=f"{ftp_host}:{ftp_port}" if ftp_host and block.method == Method.XML else None,
        directory="" if is_import else block.directory,
        filename_template="" if is_import else block.filename_template,
        skip_empty=False if is_import else block.skip_empty,
    )
