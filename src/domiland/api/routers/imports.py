"""API import (IMP-11): partners POST records as JSON or the XML document; the CRM uploads Excel accruals.

The HTTP half only: who may call, which content types, the size cap (enforced
while the body streams in), and the status code of each outcome. What an
import does is :mod:`domiland.exchange.api_import`. Partner-facing contract:
``docs/api-import.md``.

=========  ==========================================================================
200        applied (status ``Done`` or ``Warning``)
400        the body cannot be read (JSON syntax, not UTF-8, malformed XML, DOCTYPE,
           not an .xlsx): nothing applied; the answer gives the position
404        organization not visible to the caller, unknown data type or import id
409        duplicate of a request applied in the last 3 days: not applied;
           ``duplicate_of`` and ``original`` point to it
413        body over ``DOMILAND_API_MAX_BODY_BYTES`` (default 10 MiB): refused while reading
415        content type not accepted
422        stopped at an invalid record: records before it applied (counts), the
           rest not; ``invalid_records`` lists them
=========  ==========================================================================
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException, MultiPartParser

from domiland.api.deps import PrincipalDep, require_org
from domiland.exchange import api_import
from domiland.exchange.api_import import ApiImportResult, BodyFormat, Outcome
from domiland.formats.xlsx_accruals import CONTENT_TYPE as XLSX_CONTENT_TYPE

router = APIRouter(prefix="/organizations/{org_id}/imports", tags=["imports"])

JSON_TYPES = ("application/json",)
XML_TYPES = ("application/xml", "text/xml")
XLSX_TYPES = (XLSX_CONTENT_TYPE, "application/octet-stream")

STATUS_CODES = {
    Outcome.APPLIED.value: status.HTTP_200_OK,
    Outcome.INVALID.value: status.HTTP_422_UNPROCESSABLE_CONTENT,
    Outcome.DUPLICATE.value: status.HTTP_409_CONFLICT,
    Outcome.MALFORMED.value: status.HTTP_400_BAD_REQUEST,
    Outcome.TOO_LARGE.value: status.HTTP_413_CONTENT_TOO_LARGE,
}
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


# -- schemas -------------------------------------------------------------------------------------------------------


class ImportCounts(BaseModel):
    read: int = Field(description="Records read before the end or the stop")
    created: int
    updated: int
    unchanged: int
    skipped: int = Field(description="Skipped with a warning (e.g. unknown personal account)")


class OriginalImport(BaseModel):
    import_id: int
    log_entry_id: int | None
    task: str | None
    status: str = Field(description="The original's status now: Running, Done, Warning or Error")
    received_at: str


class InvalidRecord(BaseModel):
    record: int | None = Field(description="Record number in the body (1-based); null for the body's structure")
    line: int | None = Field(description="Line in the body (JSON, XML) or Excel row")
    message: str


class ErrorPosition(BaseModel):
    line: int | None
    column: int | None
    offset: int | None = Field(description="Character (JSON) or byte offset in the body")


class ImportPublic(BaseModel):
    """The result of one API import (also what ``GET …/imports/{import_id}`` returns)."""

    import_id: int
    organization_id: int
    data_type: str
    format: str = Field(description="json, xml or xlsx")
    source: str
    status: str = Field(description="Running, Done, Warning, Error or Duplicate (the integration log's status)")
    outcome: str = Field(description="applied, invalid, duplicate, malformed or too_large")
    log_entry_id: int | None
    task: str = Field(description='The log\'s task, e.g. "Импорт начислений (API) 42"')
    received_at: str
    duplicate_of: int | None
    original: OriginalImport | None
    counts: ImportCounts
    records_total: int | None = Field(description="Records in the body, when it could be read to its end")
    stopped_at_record: int | None = Field(description="First record not applied after a stop; earlier ones are in")
    records_not_applied: int | None
    warning_count: int
    warnings: list[str] = Field(description="The first 100 warnings")
    error: str | None
    error_kind: str | None = Field(description="data (the input), request (unreadable body), internal")
    error_position: ErrorPosition | None
    invalid_records: list[InvalidRecord] = Field(description="Invalid records (the first 100), the first one "
                                                             "having stopped the import")
    message: str = Field(description="The integration log's message (Russian)")


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ImportPublic, "description": "The body cannot be read; nothing applied"},
    404: {"description": "Unknown organization, data type or import"},
    409: {"model": ImportPublic, "description": "Duplicate of a request of the last 3 days; not applied"},
    413: {"model": ImportPublic, "description": "Body over the size cap; nothing applied"},
    415: {"description": "Content type not accepted"},
    422: {"model": ImportPublic, "description": "Stopped at an invalid record; earlier records applied"},
}
_JSON_EXAMPLE = {"records": [{"AccountNumber": "1001", "Period": "2026-05", "ServiceCode": "CW",
                              "ServiceName": "Холодная вода", "Amount": "100.50"}]}


# -- helpers -------------------------------------------------------------------------------------------------------


class _TooLarge(Exception):
    def __init__(self, received: int, declared: int | None = None) -> None:
        self.received, self.declared = received, declared


def _media_type(request: Request) -> str:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            detail=f"Content-Encoding {encoding} is not accepted: send the body uncompressed")
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _declared_length(request: Request, cap: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _TooLarge(0, int(declared))  # refused before a byte of the body is read


async def _capped(request: Request, cap: int) -> AsyncIterator[bytes]:
    _declared_length(request, cap)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > cap:
            raise _TooLarge(received)
        yield chunk


async def _read_body(request: Request, cap: int) -> bytes:
    buf = bytearray()
    async for chunk in _capped(request, cap):
        buf += chunk
    return bytes(buf)


async def _read_upload(request: Request, cap: int) -> tuple[bytes, str | None]:
    """The ``file`` field of a multipart/form-data body (the whole body counted against the cap)."""
    parser = MultiPartParser(request.headers, _capped(request, cap), max_files=1, max_fields=20,
                             max_part_size=64 * 1024)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"Invalid multipart/form-data body: {exc.message}")
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                detail="Send the workbook in the multipart/form-data file field named 'file'")
        return await upload.read(), upload.filename
    finally:
        await form.close()


async def _target(principal, org_id: int, data_type: str, fmt: BodyFormat | None = None) -> None:
    require_org(principal, org_id)
    try:
        await run_in_threadpool(api_import.resolve_target, org_id, data_type, fmt)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


def _respond(result: ApiImportResult) -> JSONResponse:
    headers = dict(HEADERS)
    return JSONResponse(ImportPublic.model_validate(result.to_dict()).model_dump(mode="json"),
                        status_code=STATUS_CODES[result.outcome], headers=headers)


async def _too_large(org_id: int, data_type: str, fmt: BodyFormat, exc: _TooLarge,
                     source_name: str | None = None) -> JSONResponse:
    result = await run_in_threadpool(api_import.refuse_too_large, org_id, data_type, fmt, received=exc.received,
                                     declared=exc.declared, source_name=source_name)
    # The rest of the body is not read by us: the server discards it as it arrives (nothing is kept), and the
    # connection stays usable, so the client does read this answer (closing now would reset it mid-upload).
    return _respond(result)


def _unsupported(media: str, accepted: tuple[str, ...], hint: str = "") -> HTTPException:
    return HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                         detail=f"Content-Type {media or '(none)'} is not accepted here: send one of "
                                f"{', '.join(accepted)}{hint}")


# -- routes --------------------------------------------------------------------------------------------------------


@router.post(
    "/accruals/xlsx", response_model=ImportPublic, responses=_RESPONSES,
    summary="Import accruals from an Excel workbook (.xlsx)",
    description="The first sheet: a header row (element names or Russian headers, e.g. «Лицевой счёт», «Период», "
                "«Код услуги», «Сумма»), then one accrual per row. Send it as the multipart/form-data file field "
                "`file`, or as the raw body with the .xlsx content type.",
    openapi_extra={"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": {"file": {"type": "string", "format": "binary"}}}},
        XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}},
    }}},
)
async def upload_accruals_xlsx(org_id: int, request: Request, principal: PrincipalDep) -> JSONResponse:
    await _target(principal, org_id, "accruals", BodyFormat.XLSX)
    media = _media_type(request)
    cap = api_import.max_body_bytes()
    name = None
    try:
        if media == "multipart/form-data":
            body, name = await _read_upload(request, cap)
        elif media in XLSX_TYPES:
            body = await _read_body(request, cap)
        else:
            raise _unsupported(media, ("multipart/form-data", *XLSX_TYPES))
    except _TooLarge as exc:
        return await _too_large(org_id, "accruals", BodyFormat.XLSX, exc)
    result = await run_in_threadpool(api_import.run_api_import, org_id, "accruals", BodyFormat.XLSX, body,
                                     source_name=name)
    return _respond(result)


@router.post(
    "/{data_type}", response_model=ImportPublic, responses=_RESPONSES,
    summary="Import records of one data type (JSON or the XML document)",
    description="Data types: accruals, payments, meter_readings, buildings, clients. JSON: "
                '`{"records": [{…}]}` with the XML element names as keys; XML: the exchange file itself '
                "(include/xml_schemas). Synchronous: the answer carries the result.",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["records"], "properties": {
            "records": {"type": "array", "items": {"type": "object"}},
            "version": {"type": "integer", "enum": [1]}}}, "example": _JSON_EXAMPLE},
        "application/xml": {"schema": {"type": "string"}},
        "text/xml": {"schema": {"type": "string"}},
    }}},
)
async def post_import(org_id: int, data_type: str, request: Request, principal: PrincipalDep) -> JSONResponse:
    await _target(principal, org_id, data_type)
    media = _media_type(request)
    if media in JSON_TYPES:
        fmt = BodyFormat.JSON
    elif media in XML_TYPES:
        fmt = BodyFormat.XML
    else:
        hint = (f" (an Excel workbook goes to /organizations/{org_id}/imports/accruals/xlsx)"
                if media in XLSX_TYPES or media == "multipart/form-data" else "")
        raise _unsupported(media, JSON_TYPES + XML_TYPES, hint)
    try:
        body = await _read_body(request, api_import.max_body_bytes())
    except _TooLarge as exc:
        return await _too_large(org_id, data_type, fmt, exc)
    result = await run_in_threadpool(api_import.run_api_import, org_id, data_type, fmt, body)
    return _respond(result)


@router.get("/{import_id:int}", response_model=ImportPublic, summary="The result of one API import",
            responses={404: {"description": "No such import of this organization"}})
def get_import(org_id: int, import_id: int, principal: PrincipalDep) -> ImportPublic:
    require_org(principal, org_id)
    result = api_import.get_api_import(org_id, import_id)
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Import {import_id} of organization {org_id} not found")
    return ImportPublic.model_validate(result.to_dict())
