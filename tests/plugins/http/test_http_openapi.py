"""The OpenAPI document: valid 3.1, the same paths and methods as the router, and a
property-based schemathesis run against the running server that must never get a 5xx."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
import schemathesis
from http_env import LiveServer
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from salvesti.plugins.http.openapi import openapi_document


def test_document_is_valid_openapi_3_1():
    doc = openapi_document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


async def test_document_matches_the_router(env, http):
    doc = openapi_document()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if m != "parameters"}
    routed = set()
    for route in env.server.runner.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/") and route.method != "HEAD":
            routed.add((route.method, path))
    assert documented == routed
    async with http.get("/api/openapi.json") as r:
        assert r.status == 200 and await r.json() == doc


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("schemathesis"))
    with server as env:
        yield env


#: No 5xx, and every answer's status, content type and body are the documented ones.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Raise with SALVESTI_FUZZ_EXAMPLES=500 for a longer hunt.
EXAMPLES = int(os.environ.get("SALVESTI_FUZZ_EXAMPLES", "25"))
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
#: Every operation except the endless event stream (tested in test_http_events).
OPERATIONS = [op.ok() for op in SCHEMA.get_all_operations() if op.ok().path != "/api/events"]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{o.method.upper()} {o.path}" for o in OPERATIONS])
def test_no_server_errors(operation, live_api):
    """Generated requests for each operation, as admin: never a 5xx, always as documented."""
    headers = live_api.bearer("admin")
    session = requests.Session()

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        response = case.call(base_url=live_api.url, headers=headers, session=session, timeout=10)
        case.validate_response(response, checks=CHECKS)
        assert response.status_code < 500
        assert "content-security-policy" in {k.lower() for k in response.headers}

    run()


def test_live_server_still_healthy(live_api):
    assert requests.get(f"{live_api.url}/api/health", timeout=5).json()["status"] == "ok"
    assert Path(live_api.hub.data_dir).exists()
