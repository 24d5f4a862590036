"""Use cases behind the settings and run routes: organizations, FTP settings, blocks, "Run now".

Routes only translate HTTP to these functions. Rules that need the database or the domain code
are checked here, with the domain's own validators (``Schedule.cron``, ``validate_paths``,
``validate_filename_template``, ``parse_recipients``), and refused with a 422 whose ``loc`` names
the field and whose message says how to fix it — the same shape as FastAPI's own 422s.

Airflow is touched from the API server process only, never from task code: the DAG's paused
state (kept in line with the block's ``enabled``), the FTP pools, and manual runs.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domiland import secrets
from domiland.airflow.pools import pool_name, sync_ftp_pools
from domiland.airflow.schedule import Schedule, ScheduleError
from domiland.api import schemas as s
from domiland.api.deps import Principal, PrincipalDep, require_org, require_staff
from domiland.db.engine import session_scope
from domiland.db.models import DataType, ExportBlock, FtpConnection, ImportBlock, Method, Organization
from domiland.exchange import oplog
from domiland.exchange.blocks import TITLES_RU, dag_id_for, get_ftp_settings
from domiland.exchange.exports import validate_filename_template
from domiland.exchange.notify import parse_recipients
from domiland.exchange.paths import PathTemplateError, split_paths, validate_paths
from domiland.exchange.registry import IMPORT_TYPES
from domiland.secrets import SecretKeyError
from domiland.transports.ftp import (
    DomilandFTPHook, FtpConnectError, FtpLoginError, FtpPathError, FtpTlsError,
)
from domiland.transports.http import InvalidUrl, mask_url, parse_url

log = logging.getLogger(__name__)

DEFAULT_FTP_TEST_TIMEOUT = 10.0
MAX_BODY_BYTES = 256 * 1024


# --- HTTP errors --------------------------------------------------------------------------------


class FieldError(HTTPException):
    """422 for one field: ``loc`` is its path in the body, the message says what to fix."""

    def __init__(self, loc: Iterable[str], message: str) -> None:
        super().__init__(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         detail=[{"type": "value_error", "loc": ["body", *loc], "msg": message}])


class NotFound(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(status.HTTP_404_NOT_FOUND, detail=message)


class Conflict(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(status.HTTP_409_CONFLICT, detail=message)


class SettingsRoute(APIRoute):
    """A settings route: small bodies only, and 422s that do not echo the submitted values back.

    FastAPI's default 422 puts each offending ``input`` in the answer — for a body with a missing
    field, the whole body, password included. Here the answer keeps where and why, not what.
    Settings bodies are a few kilobytes; a larger declared body is refused before it is read.
    """

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request):
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                return JSONResponse(status_code=413, content={
                    "detail": f"Request body is larger than {MAX_BODY_BYTES // 1024} KiB; settings are much smaller"})
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = [{k: v for k, v in e.items() if k not in ("input", "url")} for e in exc.errors()]
                return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})

        return route


# --- organizations ------------------------------------------------------------------------------


_CODE = re.compile(s.CODE_PATTERN.strip("^$"))


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_org_fields(code: str | None, timezone: str | None) -> None:
    if code is not None and not _CODE.fullmatch(code):
        raise FieldError(("code",), "code: use lowercase latin letters, digits and '-', starting with a letter or "
                                    "digit (e.g. uk-north); it becomes part of DAG ids")
    if timezone is not None and timezone not in _time_zones():
        raise FieldError(("timezone",), f"timezone: {timezone!r} is not a known IANA time zone; "
                                        "use a name like Europe/Moscow or Asia/Yekaterinburg")


def _org_or_404(session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"Organization {org_id} not found")
    return org


def _org_public(org: Organization, ftp_configured: bool) -> s.OrganizationPublic:
    return s.OrganizationPublic(id=org.id, code=org.code, name=org.name, kind=org.kind, timezone=org.timezone,
                                ftp_configured=ftp_configured, created_at=org.created_at)


def _has_ftp(session, org_id: int) -> bool:
    return session.scalar(select(FtpConnection.id).where(FtpConnection.organization_id == org_id)) is not None


def list_organizations(only_id: int | None, limit: int, offset: int) -> s.ListOf[s.OrganizationPublic]:
    """All organizations by code, or just ``only_id`` (a partner's own)."""
    with session_scope() as session:
        stmt = select(Organization)
        if only_id is not None:
            stmt = stmt.where(Organization.id == only_id)
        count = session.scalar(select(func.count()).select_from(stmt.subquery()))
        orgs = list(session.scalars(stmt.order_by(Organization.code).limit(limit).offset(offset)))
        with_ftp = set(session.scalars(select(FtpConnection.organization_id).where(
            FtpConnection.organization_id.in_([o.id for o in orgs]))))
        return s.ListOf[s.OrganizationPublic](data=[_org_public(o, o.id in with_ftp) for o in orgs], count=count)


def get_organization(org_id: int) -> s.OrganizationPublic:
    with session_scope() as session:
        org = _org_or_404(session, org_id)
        return _org_public(org, _has_ftp(session, org_id))


def create_organization(body: s.OrganizationCreate) -> s.OrganizationPublic:
    _check_org_fields(body.code, body.timezone)
    try:
        return _create_organization(body)
    except IntegrityError:  # created by a concurrent request since the check below
        raise Conflict(f"An organization with code {body.code!r} already exists; pick another code") from None


def _create_organization(body: s.OrganizationCreate) -> s.OrganizationPublic:
    with session_scope() as session:
        existing = session.scalar(select(Organization.id).where(Organization.code == body.code))
        if existing is not None:
            raise Conflict(f"An organization with code {body.code!r} already exists (id {existing}); "
                           "pick another code or edit that one")
        org = Organization(code=body.code, name=body.name, kind=body.kind, timezone=body.timezone)
        session.add(org)
        session.flush()
        return _org_public(org, False)


def update_organization(org_id: int, body: s.OrganizationUpdate) -> s.OrganizationPublic:
    values = _set_fields(body, nullable=())
    _check_org_fields(None, values.get("timezone"))
    with session_scope() as session:
        org = _org_or_404(session, org_id)
        for name, value in values.items():
            setattr(org, name, value)
        session.flush()
        return _org_public(org, _has_ftp(session, org_id))


def _set_fields(body, nullable: Iterable[str]) -> dict[str, Any]:
    """The fields a PATCH sent; null only where it means "clear" (e.g. email)."""
    values = {name: getattr(body, name) for name in body.model_fields_set}
    for name, value in values.items():
        if value is None and name not in nullable:
            raise FieldError((name,), f"{name}: may not be null; leave it out to keep the current value")
    return values


# --- FTP settings (FTP-1, FTP-2) -------------------------------------------------------------------


def _ftp_public(ftp: FtpConnection) -> s.FtpSettingsPublic:
    return s.FtpSettingsPublic(organization_id=ftp.organization_id, host=ftp.host, port=ftp.port,
                               use_tls=ftp.use_tls, username=ftp.username, password_set=bool(ftp.password_encrypted),
                               root_dir=ftp.root_dir, force_utf8=ftp.force_utf8, passive=ftp.passive,
                               pool=pool_name(f"{ftp.host}:{ftp.port}"), updated_at=ftp.updated_at)


def get_ftp(org_id: int) -> s.FtpSettingsPublic:
    with session_scope() as session:
        _org_or_404(session, org_id)
        ftp = session.scalar(select(FtpConnection).where(FtpConnection.organization_id == org_id))
        if ftp is None:
            raise NotFound(f"Organization {org_id} has no FTP settings yet; save them with PUT on this address")
        return _ftp_public(ftp)


def _has_dotdot(path: str) -> bool:
    return ".." in path.replace("\\", "/").split("/")


def put_ftp(org_id: int, body: s.FtpSettingsUpdate) -> s.FtpSettingsPublic:
    """Replace the FTP settings (the password only when sent), then make sure the server's pool exists."""
    host = body.host.strip()
    if "://" in host or any(c in host for c in "/\\@?# ") or not host:
        raise FieldError(("host",), "host: give the server name or IP address only (ftp.example.ru), without "
                                    "ftp://, a user or a path; use_tls selects FTPS and root_dir the directory")
    if _has_dotdot(body.root_dir):
        raise FieldError(("root_dir",), "root_dir: '..' is not allowed; give the directory from the server's root, "
                                        "e.g. /exchange")
    password = None if body.password is None else body.password.get_secret_value()
    if password and any(c in password for c in "\r\n\0"):
        raise FieldError(("password",), "password: line breaks and NUL characters cannot be sent to an FTP server")
    with session_scope() as session:
        _org_or_404(session, org_id)
        ftp = session.scalar(select(FtpConnection).where(FtpConnection.organization_id == org_id))
        if ftp is None:
            ftp = FtpConnection(organization_id=org_id, password_encrypted="")
            session.add(ftp)
        ftp.host, ftp.port, ftp.use_tls, ftp.username = host, body.port, body.use_tls, body.username
        ftp.root_dir, ftp.force_utf8, ftp.passive = body.root_dir, body.force_utf8, body.passive
        if password is not None:
            try:
                ftp.password_encrypted = secrets.encrypt(password)
            except SecretKeyError as exc:  # the server's configuration, not the caller's input
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from None
        session.flush()
        public = _ftp_public(ftp)
    try:
        created = sync_ftp_pools()
        if created:
            log.info("FTP settings of organization %s saved; Airflow pools created: %s", org_id, ", ".join(created))
    except Exception:  # the settings are saved; `domiland pools sync` (run by the run command) will catch up
        log.warning("FTP settings of organization %s saved, but the Airflow pools could not be synced",
                    org_id, exc_info=True)
    return public


def ftp_test_timeout() -> float:
    return float(os.environ.get("DOMILAND_FTP_TEST_TIMEOUT") or DEFAULT_FTP_TEST_TIMEOUT)


def _error(kind: str, reason: str) -> s.FtpTestResult:
    return s.FtpTestResult(status="error", kind=kind, reason=reason)


def _connect_kind(exc: FtpConnectError) -> str:
    # The hook translates socket errors with ``raise ... from None``; the original stays in __context__.
    import socket

    cause = exc.__context__
    if isinstance(cause, socket.gaierror):
        return "dns"
    if isinstance(cause, ConnectionRefusedError):
        return "refused"
    if isinstance(cause, TimeoutError):
        return "timeout"
    return "connect"


def check_ftp_connection(org_id: int) -> s.FtpTestResult:
    """FTP-2 on the saved settings: connect, TLS, log in, enter root_dir; every step bounded by the test timeout."""
    with session_scope() as session:
        _org_or_404(session, org_id)
    try:
        settings = get_ftp_settings(org_id)
    except (LookupError, SecretKeyError) as exc:
        return _error("settings", str(exc))
    hook = DomilandFTPHook(replace(settings, timeout=ftp_test_timeout()))
    try:
        hook.get_conn()
    except FtpTlsError as exc:
        return _error("tls", str(exc))
    except FtpLoginError as exc:
        return _error("login", str(exc))
    except FtpPathError as exc:
        return _error("directory", str(exc))
    except FtpConnectError as exc:
        return _error(_connect_kind(exc), str(exc))
    except Exception as exc:  # noqa: BLE001 -- a test reports, it does not crash
        detail = f"{exc.__class__.__name__}: {exc}"
        if settings.password:
            detail = detail.replace(settings.password, "***")
        log.warning("FTP test of organization %s (%s): %s", org_id, settings.address, detail)
        return _error("other", f"FTP server {settings.address} answered unexpectedly ({detail}); "
                               "retry later or ask its operator")
    finally:
        hook.close_conn()
    return s.FtpTestResult(status="OK")


async def check_ftp_connection_bounded(org_id: int) -> s.FtpTestResult:
    """:func:`check_ftp_connection` with one deadline for all its steps, so a slow server cannot hold the request."""
    limit = ftp_test_timeout()
    try:
        return await asyncio.wait_for(asyncio.to_thread(check_ftp_connection, org_id), timeout=limit + 2)
    except TimeoutError:  # the worker thread ends by itself: each socket step has its own timeout
        return _error("timeout", f"The FTP server did not complete connect, TLS, login and entering the root "
                                 f"directory within {limit + 2:g} s; check host, port and firewall")


# --- blocks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Direction:
    """What differs between import and export blocks."""

    name: str  # "import" | "export"
    model: type
    public: type
    label: str


IMPORT = Direction("import", ImportBlock, s.ImportBlockPublic, "Import block")
EXPORT = Direction("export", ExportBlock, s.ExportBlockPublic, "Export block")

_SCHEDULE = ("minute", "hour", "day", "month", "weekday")


def _block_or_404(session, d: Direction, org_id: int, block_id: int):
    org = _org_or_404(session, org_id)
    block = session.get(d.model, block_id)
    if block is None or block.organization_id != org_id:
        raise NotFound(f"{d.label} {block_id} not found in organization {org_id}")
    return block, org


def _schedule_public(block) -> s.SchedulePublic:
    fields = {name: getattr(block, f"schedule_{name}") for name in _SCHEDULE}
    schedule = Schedule(**fields)
    try:
        cron = schedule.cron()
        text = s.ScheduleText(ru=schedule.describe("ru"), en=schedule.describe("en"))
    except ScheduleError as exc:  # saved before validation existed: show it, the DAG is skipped
        cron, text = None, s.ScheduleText(ru=f"ошибка: {exc}", en=f"invalid: {exc}")
    return s.SchedulePublic(**fields, cron=cron, description=text)


def _mask_paths(paths: str, method: Method) -> str:
    return ", ".join(mask_url(p) for p in split_paths(paths)) if method == Method.URL else paths


def _block_public(d: Direction, block, org: Organization, states: dict[str, s.AirflowDagState]):
    dag_id = dag_id_for(org.code, d.name, block.data_type)
    common = dict(id=block.id, organization_id=org.id, data_type=block.data_type, method=block.method,
                  title=TITLES_RU[(d.name, DataType(block.data_type))], email=block.email, enabled=block.enabled,
                  schedule=_schedule_public(block), dag_id=dag_id,
                  airflow=states.get(dag_id) or s.AirflowDagState(parsed=False, paused=None),
                  created_at=block.created_at, updated_at=block.updated_at)
    if d is IMPORT:
        return s.ImportBlockPublic(**common, paths=_mask_paths(block.paths, block.method),
                                   delete_after_read=block.delete_after_read)
    return s.ExportBlockPublic(**common, directory=block.directory, filename_template=block.filename_template,
                               skip_empty=block.skip_empty)


def list_blocks(d: Direction, org_id: int) -> s.ListOf:
    with session_scope() as session:
        org = _org_or_404(session, org_id)
        blocks = list(session.scalars(select(d.model).where(d.model.organization_id == org_id)
                                      .order_by(d.model.data_type)))
        states = dag_states([dag_id_for(org.code, d.name, b.data_type) for b in blocks])
        return s.ListOf[d.public](data=[_block_public(d, b, org, states) for b in blocks], count=len(blocks))


def get_block(d: Direction, org_id: int, block_id: int):
    with session_scope() as session:
        block, org = _block_or_404(session, d, org_id, block_id)
        dag_id = dag_id_for(org.code, d.name, block.data_type)
        return _block_public(d, block, org, dag_states([dag_id]))


def _check_paths(paths: str, method: Method) -> None:
    items = split_paths(paths)
    if not items:
        raise FieldError(("paths",), "paths: give at least one file path (or feed URL); separate several with commas")
    try:
        validate_paths(paths)
    except PathTemplateError as exc:
        raise FieldError(("paths",), f"paths: {exc}") from None
    for path in items:
        if method == Method.URL:
            try:
                parse_url(path)
            except InvalidUrl as exc:
                raise FieldError(("paths",), f"paths: {exc}") from None
            try:
                typed_path = unquote(urlsplit(path.strip()).path)  # as typed: httpx resolves the '..'
            except ValueError as exc:
                raise FieldError(("paths",), f"paths: {mask_url(path)!r} is not a valid URL ({exc})") from None
            if _has_dotdot(typed_path):
                raise FieldError(("paths",), f"paths: {mask_url(path)!r} contains a '..' segment; "
                                             "give the feed's own address")
        else:
            if "://" in path:
                raise FieldError(("paths",), f"paths: {path!r} is a URL, but XML blocks read files from the "
                                             "organization's FTP server: give paths like /exports/accruals.xml "
                                             "(feeds use method URL)")
            if _has_dotdot(path):
                raise FieldError(("paths",), f"paths: {path!r} contains '..'; give the path from the FTP root "
                                             "directory without parent-directory steps")


def _normalise_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    valid, invalid = parse_recipients(value)
    if invalid:
        raise FieldError(("email",), f"email: not an e-mail address: {', '.join(invalid)}; "
                                     "write addresses like ops@example.ru, separated by commas")
    joined = ", ".join(valid)
    if len(joined) > 255:
        raise FieldError(("email",), "email: too long (at most 255 characters); use a mailing list address")
    return joined


def _check_schedule(fields: dict[str, str]) -> None:
    try:
        Schedule(**fields).cron()
    except ScheduleError as exc:
        raise FieldError(("schedule", exc.field), exc.message) from None


def _check_block(d: Direction, v: dict[str, Any], org: Organization, has_ftp: bool) -> None:
    """Validate the block as it would be saved (create, or the stored row with a PATCH applied)."""
    data_type = DataType(v["data_type"])
    if d is IMPORT:
        expected = IMPORT_TYPES[data_type].method
        if v["method"] != expected:
            how = "files on the FTP server" if expected == Method.XML else "a feed URL"
            raise FieldError(("method",), f"method: {data_type.value} are imported from {how} (method "
                                          f"{expected.value}); send method {expected.value} or leave it out")
        _check_paths(v["paths"], v["method"])
        if v["delete_after_read"] and v["method"] != Method.XML:
            raise FieldError(("delete_after_read",), "delete_after_read: only files on the FTP server (method XML) "
                                                     "can be deleted after reading; set it to false")
    else:
        if _has_dotdot(v["directory"]):
            raise FieldError(("directory",), "directory: '..' is not allowed; give the directory from the FTP root "
                                             "directory, e.g. /export (empty: the root directory itself)")
        try:
            validate_filename_template(v["filename_template"])
        except ValueError as exc:
            raise FieldError(("filename_template",), str(exc)) from None
    _check_schedule(v["schedule"])
    if v["enabled"] and v["method"] == Method.XML and not has_ftp:
        raise FieldError(("enabled",), f"enabled: organization {org.code!r} has no FTP settings, which XML blocks "
                                       f"need; save them first (PUT /organizations/{org.id}/ftp) or save the block "
                                       "with enabled=false")


def _row_values(d: Direction, block) -> dict[str, Any]:
    v = {"data_type": block.data_type, "method": block.method, "email": block.email, "enabled": block.enabled,
         "schedule": {name: getattr(block, f"schedule_{name}") for name in _SCHEDULE}}
    if d is IMPORT:
        v.update(paths=block.paths, delete_after_read=block.delete_after_read)
    else:
        v.update(directory=block.directory, filename_template=block.filename_template, skip_empty=block.skip_empty)
    return v


def _apply(block, v: dict[str, Any]) -> None:
    for name, value in v.items():
        if name == "schedule":
            for field in _SCHEDULE:
                setattr(block, f"schedule_{field}", value[field].strip())
        else:
            setattr(block, name, value)


def _keep_masked_credentials(new_paths: str, old_paths: str) -> str:
    """A feed URL sent back as shown (``https://***:***@…``) keeps the stored credentials."""
    masked = {mask_url(p): p for p in split_paths(old_paths)}
    return ", ".join(masked.get(p, p) for p in split_paths(new_paths))


def create_block(d: Direction, org_id: int, body) -> Any:
    try:
        return _create_block(d, org_id, body)
    except IntegrityError:  # created by a concurrent request since the check
        raise Conflict(f"Organization {org_id} already has an {d.name} block for this data type; "
                       "edit that block instead") from None


def _create_block(d: Direction, org_id: int, body) -> Any:
    v = body.model_dump(exclude={"schedule"})
    v["schedule"] = body.schedule.model_dump()
    if d is IMPORT:
        v["method"] = Method(v["method"]) if v["method"] else IMPORT_TYPES[DataType(v["data_type"])].method
    else:
        v["method"] = Method.XML
    v["data_type"] = DataType(v["data_type"])
    v["email"] = _normalise_email(v["email"])
    with session_scope() as session:
        org = _org_or_404(session, org_id)
        existing = session.scalar(select(d.model.id).where(d.model.organization_id == org_id,
                                                           d.model.data_type == v["data_type"]))
        if existing is not None:
            raise Conflict(f"Organization {org.code!r} already has an {d.name} block for {v['data_type'].value} "
                           f"(id {existing}); edit that block instead")
        _check_block(d, v, org, _has_ftp(session, org_id))
        block = d.model(organization_id=org_id)
        _apply(block, v)
        session.add(block)
        session.flush()
        dag_id = dag_id_for(org.code, d.name, block.data_type)
    # A DAG of a block deleted earlier may still be in Airflow, paused: unpause it now.
    _sync_paused(dag_id, paused=not v["enabled"])
    return get_block(d, org_id, block.id)


def update_block(d: Direction, org_id: int, block_id: int, body) -> Any:
    changes = _set_fields(body, nullable=("email",))
    if "schedule" in changes:
        changes["schedule"] = body.schedule.model_dump()
    if "email" in changes:
        changes["email"] = _normalise_email(changes["email"])
    with session_scope() as session:
        block, org = _block_or_404(session, d, org_id, block_id)
        v = _row_values(d, block)
        if "method" in changes:
            changes["method"] = Method(changes["method"])
        if d is IMPORT and "paths" in changes:
            changes["paths"] = _keep_masked_credentials(changes["paths"], block.paths)
        v.update(changes)
        _check_block(d, v, org, _has_ftp(session, org_id))
        _apply(block, {k: v[k] for k in changes})
        session.flush()
        dag_id = dag_id_for(org.code, d.name, block.data_type)
    if "enabled" in changes:
        _sync_paused(dag_id, paused=not v["enabled"])
    return get_block(d, org_id, block_id)


def delete_block(d: Direction, org_id: int, block_id: int) -> None:
    with session_scope() as session:
        block, org = _block_or_404(session, d, org_id, block_id)
        dag_id = dag_id_for(org.code, d.name, block.data_type)
        session.delete(block)
    _sync_paused(dag_id, paused=True)


# --- Airflow: DAG state, pause, manual runs -------------------------------------------------------


def dag_states(dag_ids: list[str]) -> dict[str, s.AirflowDagState]:
    """What Airflow's metadata DB says about these DAGs; empty when it cannot be read (then: not parsed)."""
    if not dag_ids:
        return {}
    try:
        from airflow.models.dag import DagModel
        from airflow.utils.session import create_session

        with create_session() as session:
            rows = session.execute(select(DagModel.dag_id, DagModel.is_paused, DagModel.is_stale)
                                   .where(DagModel.dag_id.in_(dag_ids))).all()
    except Exception:
        log.warning("Cannot read the state of DAGs %s from Airflow's database", dag_ids, exc_info=True)
        return {}
    return {dag_id: s.AirflowDagState(parsed=not stale, paused=paused) for dag_id, paused, stale in rows}


def _sync_paused(dag_id: str, *, paused: bool) -> None:
    """Keep Airflow's paused flag in line with the block: enabled → unpaused, disabled/deleted → paused.

    The DAG itself appears or disappears with the next parse; a DAG not parsed yet is left alone
    (new DAGs are created unpaused).
    """
    try:
        from airflow.models.dag import DagModel
        from airflow.utils.session import create_session

        with create_session() as session:
            dag = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
            if dag is not None and dag.is_paused != paused:
                dag.is_paused = paused
                log.info("DAG %s %s to match its block", dag_id, "paused" if paused else "unpaused")
    except Exception:  # the block is saved; the paused flag can be fixed in the Airflow UI
        log.warning("Could not set DAG %s paused=%s in Airflow", dag_id, paused, exc_info=True)


def _not_parsed(dag_id: str) -> Conflict:
    return Conflict(f"DAG {dag_id} is not in Airflow yet: the DAG appears within a minute after the block is "
                    "saved (when Airflow parses the DAG files); try again then")


def airflow_run_url(dag_id: str, run_id: str) -> str:
    from airflow.configuration import conf

    base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return f"{base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def run_block(d: Direction, org_id: int, block_id: int, user: str) -> s.RunStarted:
    """IMP-4 / EXP-6 "Run now": a manual run of the block's DAG (the scheduled runs' operator) and its log row."""
    from airflow.exceptions import DagNotFound
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType

    from airflow.api.common.trigger_dag import trigger_dag

    with session_scope() as session:
        block, org = _block_or_404(session, d, org_id, block_id)
        dag_id = dag_id_for(org.code, d.name, block.data_type)
        enabled, method, data_type = block.enabled, Method(block.method), DataType(block.data_type)
    if not enabled:
        raise Conflict(f"{d.label} {block_id} is disabled: enable it (PATCH enabled=true) first; its DAG appears "
                       "within a minute after the block is saved")
    with create_session() as session:
        dag = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
        if dag is None or dag.is_stale:
            raise _not_parsed(dag_id)
        if dag.has_import_errors:
            raise Conflict(f"DAG {dag_id} failed to parse in Airflow (see Browse → Import errors); "
                           "fix that first, then run it")
        paused = bool(dag.is_paused)
        try:
            run = trigger_dag(dag_id, triggered_by=DagRunTriggeredByType.REST_API, triggering_user_name=user,
                              logical_date=None, session=session)
        except DagNotFound:  # a DagModel without a serialized DAG: still being parsed
            raise _not_parsed(dag_id) from None
        run_id, state = run.run_id, str(getattr(run.state, "value", run.state))
    log.info("Run now of %s by %s: %s", dag_id, user, run_id)
    entry_id = oplog.ensure_run_entry(dag_id, run_id, organization_id=org_id, task_type=f"{d.name}_{data_type.value}",
                                      title=TITLES_RU[(d.name, data_type)], method=method)
    return s.RunStarted(dag_id=dag_id, run_id=run_id, log_entry_id=entry_id, airflow_url=airflow_run_url(dag_id, run_id),
                        state=state, dag_paused=paused)


# --- access (route dependencies) -----------------------------------------------------------------
# Dependencies, not calls inside the routes: they run before the body is validated, so another
# organization's key gets its 404 (and a partner its 403) whatever body it sent.

OrgId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="Organization id")]
BlockId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="Block id")]


def org_principal(org_id: OrgId, principal: PrincipalDep) -> Principal:
    require_org(principal, org_id)
    return principal


def staff_principal(principal: PrincipalDep) -> Principal:
    require_staff(principal)
    return principal


def staff_org_principal(org_id: OrgId, principal: PrincipalDep) -> Principal:
    require_org(principal, org_id)
    require_staff(principal)
    return principal


OrgPrincipal = Annotated[Principal, Depends(org_principal)]
"""Staff, or a partner key of the organization in the path (another one's: 404)."""
StaffPrincipal = Annotated[Principal, Depends(staff_principal)]
StaffOrgPrincipal = Annotated[Principal, Depends(staff_org_principal)]
