"""The diagnostics API against real peers: a sipp carrier that accepts Salvesti's REGISTER
and a baresip desk phone registered at Salvesti.  The carrier check is ok with the
carrier's own 200, and extension 101 shows registered from the phone's address and port
with baresip's User-Agent; 102 (no phone) is not registered."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from harness.lab import Lab
from harness.procs import wait_for
from harness.salvesti import SOURCE_ID, Salvesti

pytestmark = pytest.mark.e2e


def diagnostics(salv: Salvesti, token: str) -> dict[str, Any]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{salv.http_port}/api/diagnostics", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def manager_token(salv: Salvesti) -> str:
    cfg = str(salv.config_path)
    add = salv.cli("users", "add", "juht", "--role", "manager", "-c", cfg, input_=b"a-long-passw0rd\n")
    assert add.returncode == 0, add.stderr.decode()
    tok = salv.cli("tokens", "create", "juht", "-c", cfg)
    assert tok.returncode == 0, tok.stderr.decode()
    return tok.stdout.decode().strip().split()[-1]


def test_carrier_ok_and_a_registered_baresip_phone(lab: Lab) -> None:
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)
    token = manager_token(salv)
    phone = lab.phone("101", salv)

    def checks() -> dict[str, Any] | None:
        body = {c["id"]: c for c in diagnostics(salv, token)["checks"]}
        trunk = body.get(f"carrier.{SOURCE_ID}.trunk")
        return body if trunk and trunk["state"] == "ok" else None

    found = wait_for(checks, 15, interval=0.3, what="the trunk check ok")
    trunk = found[f"carrier.{SOURCE_ID}.trunk"]
    assert trunk["advice_key"] == "diag_carrier_ok"
    assert trunk["details"]["last_status"] == 200
    assert trunk["details"]["answer"].startswith("200")
    assert trunk["details"]["registrar"] == f"127.0.0.1:{carrier.port}"
    assert trunk["details"]["registered_at"] and trunk["details"]["expires_at"]

    ext = found[f"extension.{SOURCE_ID}.101"]
    assert (ext["state"], ext["advice_key"]) == ("ok", "diag_ext_ok")
    (contact,) = ext["details"]["contacts"]
    assert contact["address"] == f"127.0.0.1:{phone.sip_port}"
    assert contact["transport"] == "udp"
    assert "baresip" in (contact["user_agent"] or "").lower(), contact
    assert contact["expires_at"]
    assert found[f"extension.{SOURCE_ID}.102"]["details"]["registered"] is False
    assert found[f"media.{SOURCE_ID}"]["details"]["low"] == salv.rtp_min
    assert found[f"component.source.{SOURCE_ID}"]["state"] == "ok"
