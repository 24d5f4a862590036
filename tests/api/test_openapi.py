"""The OpenAPI document: committed, equal to the code and to what the server serves; fuzzed for 5xx.

The fuzz run (schemathesis) sends a few generated requests per operation — valid and invalid
bodies, odd strings, big numbers — to the real API server as staff, against an organization with
FTP settings and one block of each direction, and fails on any 5xx.

Which operations: every GET, every operation of the settings routers below, and any operation
marked ``x-domiland-fuzz: true``; never one marked ``x-domiland-outbound: true`` (it reaches an
outside server — e.g. the FTP test would connect to generated host names).
"""
from __future__ import annotations

import copy
import json
import zlib

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from domiland.api.openapi import build_document, committed_path, render

FUZZED_TAGS = {"organizations", "ftp", "blocks", "runs", "auth"}
EXAMPLES_PER_OPERATION = 5


def test_committed_document_matches_the_code():
    path = committed_path()
    assert path.exists(), "include/openapi/hub.yaml is missing: run `python -m domiland.api.openapi`"
    assert path.read_text(encoding="utf-8") == render(build_document()), (
        "include/openapi/hub.yaml is stale: run `python -m domiland.api.openapi` and commit it")


def test_the_server_serves_the_committed_document(api_server):
    served = httpx.get(f"{api_server.api}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == yaml.safe_load(committed_path().read_text(encoding="utf-8"))


def fuzzed_document() -> dict:
    doc = copy.deepcopy(json.loads(json.dumps(build_document())))
    for path, operations in list(doc["paths"].items()):
        for method in list(operations):
            op = operations[method]
            wanted = method == "get" or FUZZED_TAGS & set(op.get("tags", ())) or op.get("x-domiland-fuzz")
            if not wanted or op.get("x-domiland-outbound"):
                del operations[method]
        if not operations:
            del doc["paths"][path]
    return doc


@pytest.fixture
def live_hub(api_hub) -> dict:
    """The live server as staff, with an organization that has FTP settings and one block of each direction."""
    with api_hub.staff() as staff:
        org = staff.post("/organizations", json={"code": "uk-fuzz", "name": "Fuzz", "kind": "management"}).json()
        staff.put(f"/organizations/{org['id']}/ftp", json={"host": "127.0.0.1", "port": 2121, "password": "pw"})
        imp = staff.post(f"/organizations/{org['id']}/import-blocks", json={"data_type": "accruals",
                                                                            "paths": "/a.xml"}).json()
        exp = staff.post(f"/organizations/{org['id']}/export-blocks", json={
            "data_type": "payments", "filename_template": "p_%Y%m%d.xml"}).json()
        return {"base_url": api_hub.api, "headers": {"Authorization": f"Bearer {api_hub.token()}"},
                "org_id": org["id"], "blocks": {"import": imp["id"], "export": exp["id"]}}


# Loaded at import (schemathesis' fixture-based loader relies on pytest internals that pytest 9 changed).
schema = schemathesis.openapi.from_dict(fuzzed_document(), config=SchemathesisConfig.from_dict({
    "generation": {"max-examples": EXAMPLES_PER_OPERATION, "mode": "all"}}))


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx(case, live_hub):
    # Half the cases use the real ids, so bodies reach the validation and the database, not only a 404.
    if case.path_parameters and zlib.crc32(repr(case.body).encode()) % 2 == 0:
        if "org_id" in case.path_parameters:
            case.path_parameters["org_id"] = live_hub["org_id"]
        if "block_id" in case.path_parameters:
            direction = "export" if "export-blocks" in case.operation.path else "import"
            case.path_parameters["block_id"] = live_hub["blocks"][direction]
    response = case.call(base_url=live_hub["base_url"], headers=live_hub["headers"], timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:500]}\n"
        f"body: {str(case.body)[:500]}")
