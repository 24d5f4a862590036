"""The integration-log page of the Airflow UI (Browse → "Integration log / Журнал интеграции").

The plugin's ``external_views`` entry makes the Airflow UI show ``/integrations/ui/log`` in its
frame. The page is static (``static/log.html``, ``log.js``, ``log.css``); its script calls
``GET /integrations/log`` from the browser, same origin, with the UI's own cookie. Labels in
Russian and English (a switch; the default follows the Airflow UI's language).

* Staff only, like every route: the Airflow session (cookie or bearer JWT) is checked by
  :data:`~domiland.api.deps.PrincipalDep`. Without one, the page answers 401 with a short HTML
  page ("sign in to Airflow", with the login link) instead of the API's JSON; a partner key 403.
* Messages and every other value are put into the page as text (``textContent``), never as HTML,
  and the Content-Security-Policy allows only this page's own script and style.
"""
from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.routing import APIRoute

from domiland.api.deps import PrincipalDep, require_staff

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
PAGE_PATH = "/ui/log"
"""Below the API's prefix: ``/integrations/ui/log``."""

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class PageRoute(APIRoute):
    """A route for browsers: the auth dependency's 401/403 becomes a short HTML page instead of JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                if exc.status_code in (401, 403):
                    return denied_page(request, exc.status_code)
                raise

        return page_handler


router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)

_ASSETS = {"log.js": "text/javascript; charset=utf-8", "log.css": "text/css; charset=utf-8"}


@router.get("/log", summary="The integration-log page (staff)")
def log_page(principal: PrincipalDep) -> Response:
    require_staff(principal)
    return _file("log.html", "text/html; charset=utf-8", cache="no-store")


@router.get("/log.js", summary="The page's script")
def log_script(principal: PrincipalDep) -> Response:
    require_staff(principal)
    return _file("log.js", _ASSETS["log.js"])


@router.get("/log.css", summary="The page's style")
def log_style(principal: PrincipalDep) -> Response:
    require_staff(principal)
    return _file("log.css", _ASSETS["log.css"])


def denied_page(request: Request, status_code: int) -> Response:
    """401: sign in to Airflow (with the login link); 403: the page is for Domiland staff only."""
    if status_code == 401:
        login = html.escape(_login_url(str(request.url)), quote=True)
        body = ("<h1>Журнал интеграции / Integration log</h1>"
                "<p lang=\"ru\">Войдите в Airflow, чтобы открыть журнал.</p>"
                "<p lang=\"en\">Sign in to Airflow to see the log.</p>"
                f"<p><a href=\"{login}\" target=\"_top\">Войти в Airflow / Sign in to Airflow</a></p>")
    else:
        body = ("<h1>Журнал интеграции / Integration log</h1>"
                "<p lang=\"ru\">Эта страница — для сотрудников Domiland (вход через Airflow). "
                "Партнёрам журнал доступен через API: GET /integrations/log.</p>"
                "<p lang=\"en\">This page is for Domiland staff (signed in to Airflow). "
                "Partners read the log through the API: GET /integrations/log.</p>")
    page = ("<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">"
            "<title>Журнал интеграции / Integration log</title></head>"
            f"<body style=\"font-family: system-ui, sans-serif; margin: 2rem\">{body}</body></html>")
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    if status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(page, status_code=status_code, media_type="text/html; charset=utf-8", headers=headers)


def _login_url(next_url: str) -> str:
    try:
        from airflow.api_fastapi.app import get_auth_manager

        return get_auth_manager().get_url_login(next_url=next_url)
    except Exception:  # noqa: BLE001 - no auth manager here (tests without Airflow): the UI's root signs in
        log.debug("no Airflow auth manager for the login link", exc_info=True)
        return "/"


@lru_cache(maxsize=8)
def _read(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _file(name: str, media_type: str, *, cache: str = "no-cache") -> Response:
    return Response(_read(name), media_type=media_type, headers={**SECURITY_HEADERS, "Cache-Control": cache})
