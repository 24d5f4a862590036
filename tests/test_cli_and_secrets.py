"""The ``domiland`` command (FTP-2 test connection, seeding, listing) and password storage (FTP-3)."""
from __future__ import annotations

import sqlite3

import pytest

from domiland import secrets
from domiland.cli import main
from domiland.db.engine import session_scope
from domiland.db.models import FtpConnection


def test_ftp_test_prints_ok_or_the_reason(ftps_server, make_org, monkeypatch, capsys):
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    make_org("uk-ok", ftp=ftps_server.settings())
    make_org("uk-badpw", ftp=ftps_server.settings(password="Bad-Pass-123"))
    make_org("uk-nodir", ftp=ftps_server.settings(root_dir="/no/such/dir"))
    assert main(["ftp", "test", "uk-ok"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "OK"
    assert main(["ftp", "test", "uk-badpw"]) == 1
    out = capsys.readouterr().out
    assert "login" in out.lower() and "Bad-Pass-123" not in out
    assert main(["ftp", "test", "uk-nodir"]) == 1
    assert "/no/such/dir" in capsys.readouterr().out
    assert main(["ftp", "test", "nobody"]) == 2


def test_ftp_test_without_settings_says_what_to_fill_in(make_org, capsys):
    make_org("uk-empty")
    assert main(["ftp", "test", "uk-empty"]) == 1
    assert "FTP settings are not filled in" in capsys.readouterr().out


def test_password_is_stored_encrypted_only(ftps_server, make_org, hub_db):
    make_org(ftp=ftps_server.settings(password="Plain-Text-Never"))
    raw = sqlite3.connect(hub_db.removeprefix("sqlite:///"))
    dump = "\n".join(raw.iterdump())
    assert "Plain-Text-Never" not in dump
    with session_scope() as s:
        token = s.query(FtpConnection).one().password_encrypted
    assert secrets.decrypt(token) == "Plain-Text-Never"


def test_no_key_no_password_and_a_changed_key_is_explained(monkeypatch):
    token = secrets.encrypt("x")
    monkeypatch.setenv("DOMILAND_FERNET_KEY", "")
    monkeypatch.delenv("AIRFLOW__CORE__FERNET_KEY", raising=False)
    monkeypatch.setattr("airflow.configuration.conf.get", lambda *a, **k: "")
    with pytest.raises(secrets.SecretKeyError, match="DOMILAND_FERNET_KEY"):
        secrets.encrypt("x")
    from cryptography.fernet import Fernet

    monkeypatch.setenv("DOMILAND_FERNET_KEY", Fernet.generate_key().decode())
    with pytest.raises(secrets.SecretKeyError, match="re-enter the password"):
        secrets.decrypt(token)


def test_ftp_settings_repr_hides_the_password(ftps_server):
    assert "Secret-In-Repr" not in repr(ftps_server.settings(password="Secret-In-Repr"))


def test_db_upgrade_demo_seed_is_idempotent_and_blocks_list(hub_db, capsys):
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "seed"]) == 0
    assert main(["demo", "seed"]) == 0
    capsys.readouterr()
    assert main(["blocks", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 9  # 7 import blocks + 2 export blocks, each listed once
    (accruals,) = [line for line in lines if "demo-uk.import.accruals" in line]
    assert "0 2 * * *" in accruals and "At 02:00" in accruals
    (export,) = [line for line in lines if "demo-uk.export.payments" in line]
    assert "/export/платежи/payments_%Y%m%d_%H%M%S.xml" in export


def test_demo_blocks_of_every_kind_run_green_on_their_sample_files(hub_db, ftps_server, https_server, monkeypatch):
    """The run command's demo: every import block reads its sample file or feed cleanly; exports are set up."""
    from domiland import demo
    from domiland.db.models import ExportBlock, ImportBlock
    from domiland.exchange.imports import import_block

    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    monkeypatch.setenv("DOMILAND_HTTP_CA_FILE", https_server.ca_file)
    monkeypatch.setenv("DOMILAND_ALLOWED_PRIVATE_HOSTS", "127.0.0.1")
    demo.seed(feed_port=https_server.port)
    demo.write_sample_files(ftps_server.root)
    feeds = demo.demo_dir() / "feeds"
    for name in ("news.rss", "realty-feed.xml"):
        https_server.route(f"/{name}", (feeds / name).read_bytes(), content_type="application/xml")
    with session_scope() as s:
        ftp = s.query(FtpConnection).one()
        ftp.port, ftp.username = ftps_server.port, ftps_server.user
        ftp.password_encrypted = secrets.encrypt(ftps_server.password)
        blocks = [(b.id, b.data_type.value) for b in s.query(ImportBlock).order_by(ImportBlock.id)]
        exports = sorted(b.data_type.value for b in s.query(ExportBlock))
    assert [t for _, t in blocks] == ["accruals", "payments", "meter_readings", "buildings", "clients", "news",
                                      "offers"]
    assert exports == ["meter_readings", "payments"]
    created = {}
    for block_id, data_type in blocks:
        report = import_block(block_id)
        assert report.status.value == "Done", f"{data_type}: {report.message()}"
        created[data_type] = report.total("created")
    assert created["accruals"] == 2 * demo.DEMO_ACCOUNTS * 4
    assert created["news"] == 10 and created["offers"] == 12 and created["payments"] == 600
    assert created["meter_readings"] == 3 * demo.DEMO_ACCOUNTS


def test_api_keys_are_shown_once_and_stored_as_hashes(make_org, hub_db, capsys):
    from domiland.api.keys import verify_key

    org = make_org("uk-keys")
    assert main(["api-key", "create", "uk-keys", "1C exchange"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("dml_") and verify_key(key) == org
    assert key not in "\n".join(sqlite3.connect(hub_db.removeprefix("sqlite:///")).iterdump())
    assert main(["api-key", "revoke", "1"]) == 0 and verify_key(key) is None
    assert main(["api-key", "revoke", "1"]) == 1
    assert main(["api-key", "create", "nobody", "x"]) == 2
