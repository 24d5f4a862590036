"""One Airflow pool per FTP server, so that many blocks of one organization never open more
sessions to its server at once than it allows (FTP servers commonly cap sessions per user/IP).

Pools live in Airflow's metadata database, which task code must not touch and the
scheduler's listeners must not write to (the scheduler guards its session against
commits). So they are created by ``domiland pools sync`` — the run command calls it,
and so does the settings API whenever FTP settings are saved. A task whose pool is
missing waits in "scheduled" and Airflow logs the pool's name. An existing pool is
never resized, so operators can tune it in the Airflow UI (Admin → Pools).
"""
from __future__ import annotations

import os
import re

from sqlalchemy import select

from domiland.db.engine import session_scope
from domiland.db.models import FtpConnection

DEFAULT_SLOTS = 2


def pool_name(ftp_address: str) -> str:
    """``ftp:<host>:<port>`` with anything unusual replaced, e.g. ``ftp:files.example.ru:21``."""
    return "ftp:" + re.sub(r"[^A-Za-z0-9.:_-]", "_", ftp_address.lower())


def slots() -> int:
    return int(os.environ.get("DOMILAND_FTP_MAX_SESSIONS", DEFAULT_SLOTS))


def ensure_pool(name: str) -> bool:
    """Create the pool if it is missing (needs Airflow's metadata DB); True when it was created."""
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    with create_session() as session:
        if session.scalar(select(Pool).where(Pool.pool == name)) is not None:
            return False
        Pool.create_or_update_pool(name, slots(), "Domiland: concurrent sessions to one FTP server", False,
                                   session=session)
        return True


def sync_ftp_pools() -> list[str]:
    """Ensure a pool for every FTP server in the hub's settings; returns the pools created."""
    with session_scope() as session:
        addresses = {f"{host}:{port}" for host, port in session.execute(select(FtpConnection.host, FtpConnection.port))}
    return [name for name in sorted(pool_name(a) for a in addresses) if ensure_pool(name)]
