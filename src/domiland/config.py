"""Hub-wide settings read from the environment, in one place.

Everything has a development default under a project-local state directory
so that the run command works on a fresh machine; production sets the
variables (see README, "Configuration").
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class HubConfig:
    """Values that several layers need; built once per process by :func:`get_config`."""

    state_dir: Path
    db_url: str
    ftp_timeout: float
    ftp_ca_file: str | None
    max_file_bytes: int
    task_retries: int
    strict_parse: bool


def get_config() -> HubConfig:
    """Read the environment now (cheap; tests change it between cases)."""
    state_dir = Path(os.environ.get("DOMILAND_STATE_DIR") or Path.cwd() / ".state").resolve()
    db_url = os.environ.get("DOMILAND_DB_URL") or f"sqlite:///{state_dir / 'hub.db'}"
    return HubConfig(
        state_dir=state_dir,
        db_url=db_url,
        ftp_timeout=float(os.environ.get("DOMILAND_FTP_TIMEOUT", "30")),
        ftp_ca_file=os.environ.get("DOMILAND_FTP_CA_FILE") or None,
        max_file_bytes=int(os.environ.get("DOMILAND_MAX_FILE_BYTES", str(2 * 1024**3))),
        task_retries=int(os.environ.get("DOMILAND_TASK_RETRIES", "2")),
        strict_parse=_flag("DOMILAND_STRICT_PARSE"),
    )


@lru_cache(maxsize=1)
def repo_include_dir() -> Path:
    """``include/`` of the checkout (schemas, samples); overridable for installed copies."""
    override = os.environ.get("DOMILAND_INCLUDE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "include"
