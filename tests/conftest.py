"""Shared fixtures: an isolated Airflow home and hub database, real PostgreSQL, and the FTP servers.

Airflow reads its configuration when first imported, so the environment is
set here, at import time, before any test module imports Airflow.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="domiland-tests-"))
os.environ.update({
    "AIRFLOW_HOME": str(_SESSION_DIR / "airflow"),
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_SESSION_DIR / 'airflow' / 'airflow.db'}",
    "DOMILAND_STATE_DIR": str(_SESSION_DIR / "state"),
    "DOMILAND_DB_URL": f"sqlite:///{_SESSION_DIR / 'state' / 'unused.db'}",
    "DOMILAND_TASK_RETRIES": "0",
})
os.environ.pop("DOMILAND_STRICT_PARSE", None)
from cryptography.fernet import Fernet  # noqa: E402

os.environ["DOMILAND_FERNET_KEY"] = Fernet.generate_key().decode()

pytest_plugins = [
    "tests.fixtures.ftp",
    "tests.fixtures.smtp",
    "tests.fixtures.https",
    "tests.fixtures.airflow_api",
]

PG_ADMIN_URL = os.environ.get("DOMILAND_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


def unavailable(reason: str) -> None:
    """Skip locally, but fail in CI: a service the suite needs must not be skipped silently."""
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _hub_template() -> Path:
    """A migrated hub database made once; each test gets a copy (migrations cost ~0.3 s)."""
    from domiland.db.engine import get_engine
    from domiland.db.migrate import upgrade

    path = _SESSION_DIR / "template-hub.db"
    upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()  # the last connection closing checkpoints the WAL into the file
    return path


@pytest.fixture
def hub_db(_hub_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, migrated SQLite hub database configured for this test; returns its URL."""
    path = tmp_path / "hub.db"
    shutil.copy(_hub_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DOMILAND_DB_URL", url)
    monkeypatch.setenv("DOMILAND_STATE_DIR", str(tmp_path / "state"))
    return url


@pytest.fixture
def pg_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A scratch PostgreSQL database on the machine's server, dropped afterwards; returns its URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"domiland_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        unavailable(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc.orig}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        from domiland.db.engine import get_engine

        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database, migrated once for the session (``dag.test()`` needs it)."""
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture
def make_org(hub_db: str) -> Callable[..., int]:
    """Create an organization with accounts (and FTP settings when given); returns its id."""
    from domiland import secrets
    from domiland.db.engine import session_scope
    from domiland.db.models import Account, FtpConnection, Organization, OrganizationKind

    def make(code: str = "uk-test", *, accounts: tuple[str, ...] = ("1001", "1002", "1003"), ftp=None,
             timezone: str = "Europe/Moscow") -> int:
        with session_scope() as session:
            org = Organization(code=code, name=f"УК {code}", kind=OrganizationKind.MANAGEMENT, timezone=timezone)
            session.add(org)
            session.flush()
            session.add_all(Account(organization_id=org.id, number=n) for n in accounts)
            if ftp is not None:
                session.add(FtpConnection(organization_id=org.id, host=ftp.host, port=ftp.port, use_tls=ftp.use_tls,
                                          username=ftp.username, password_encrypted=secrets.encrypt(ftp.password),
                                          root_dir=ftp.root_dir, force_utf8=ftp.force_utf8))
            return org.id

    return make


@pytest.fixture
def make_block(hub_db: str) -> Callable[..., int]:
    """Create an import block; returns its id."""
    from domiland.db.engine import session_scope
    from domiland.db.models import DataType, ImportBlock, Method

    def make(org_id: int, *, paths: str = "/accruals.xml", data_type: DataType = DataType.ACCRUALS,
             delete_after_read: bool = False, enabled: bool = True, schedule: tuple[str, ...] = ("0", "2", "*", "*", "*"),
             email: str | None = None) -> int:
        with session_scope() as session:
            block = ImportBlock(organization_id=org_id, data_type=data_type, method=Method.XML, paths=paths,
                                delete_after_read=delete_after_read, enabled=enabled, email=email,
                                schedule_minute=schedule[0], schedule_hour=schedule[1], schedule_day=schedule[2],
                                schedule_month=schedule[3], schedule_weekday=schedule[4])
            session.add(block)
            session.flush()
            return block.id

    return make


@pytest.fixture
def make_org_in_api(api_hub) -> Callable[..., int]:
    """Create an organization in the API server's hub database; returns its id."""
    from domiland.db.engine import session_scope
    from domiland.db.models import Account, Organization, OrganizationKind

    def make(code: str = "uk-api", *, accounts: tuple[str, ...] = ("1001", "1002")) -> int:
        with session_scope() as session:
            org = Organization(code=code, name=f"УК {code}", kind=OrganizationKind.MANAGEMENT)
            session.add(org)
            session.flush()
            session.add_all(Account(organization_id=org.id, number=n) for n in accounts)
            return org.id

    return make
