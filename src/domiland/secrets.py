"""Encryption of stored credentials (FTP-3): Fernet, keyed like Airflow's own connections.

The key is ``DOMILAND_FERNET_KEY`` or, when unset, Airflow's ``[core] fernet_key``
(``AIRFLOW__CORE__FERNET_KEY``), so one secret protects both stores. Without a
key the hub refuses to store or read a password instead of storing it plainly.
"""
from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(RuntimeError):
    """No usable key, or a token made with another key."""


def _fernet() -> MultiFernet:
    raw = os.environ.get("DOMILAND_FERNET_KEY") or os.environ.get("AIRFLOW__CORE__FERNET_KEY") or ""
    if not raw:
        try:
            from airflow.configuration import conf

            raw = conf.get("core", "fernet_key", fallback="") or ""
        except Exception:  # Airflow not configured in this process
            raw = ""
    keys = [k.strip() for k in raw.split(",") if k.strip()]  # comma list = key rotation, newest first
    if not keys:
        raise SecretKeyError("No encryption key: set DOMILAND_FERNET_KEY (Fernet.generate_key()) "
                             "or AIRFLOW__CORE__FERNET_KEY before storing credentials")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise SecretKeyError(f"DOMILAND_FERNET_KEY is not a valid Fernet key: {exc}") from None


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretKeyError("A stored password cannot be decrypted with the current key: "
                             "the key changed; re-enter the password in the FTP settings") from None
