"""The hub's HTTP API: a FastAPI app mounted on Airflow's API server by the plugin (``/integrations``).

Routers are discovered: every module of ``domiland.api.routers`` that defines
``router`` is included, so adding a resource is adding one file. Every route
must depend on ``PrincipalDep`` (a test walks the routes and checks).
"""
from __future__ import annotations

import logging
import pkgutil
import uuid
from importlib import import_module

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from domiland.api import routers

log = logging.getLogger(__name__)

PREFIX = "/integrations"


def router_modules() -> list[str]:
    return sorted(f"{routers.__name__}.{m.name}" for m in pkgutil.iter_modules(routers.__path__)
                  if not m.name.startswith("_"))


def create_app() -> FastAPI:
    app = FastAPI(title="Domiland integration hub", version="1",
                  description="Settings, operations log, imports and runs of the Domiland integration hub. "
                              "Staff authenticate with Airflow's JWT; partner systems with an organization's "
                              "API key (X-API-Key).")
    for name in router_modules():
        app.include_router(import_module(name).router)

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        # Callers get a short error with an id; the server log gets the full reason.
        error_id = uuid.uuid4().hex[:12]
        log.exception("hub API error %s on %s %s", error_id, request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "Internal error", "error_id": error_id})

    return app
