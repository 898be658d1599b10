"""The law enforced on real calls: `salvesti run`, a sipp carrier and baresip phones.

``require_employee_notice`` is on and ``never_record`` lists a prefix.  Extension 101's
employee acknowledged the notice (on paper, recorded by an admin through the API); 102's
did not.  101's outbound call is recorded; 102's outbound call is not; an inbound call from a
never-record number is listed but not recorded (and plays no recording notice); an inbound
call that the uninformed 102 answers loses what was recorded before the answer.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from harness.checks import check_recording
from harness.flows import OUTSIDE, dial_out, hang_up, inbound_from_carrier
from harness.lab import Lab
from harness.salvesti import Salvesti

pytestmark = pytest.mark.e2e

NEVER = "+3725559912"  # matches never_record "+37255599*"
VERSION = "e2e-2026-12"


def api(
    salv: Salvesti, token: str, path: str, body: dict[str, Any] | None = None, method: str = "GET"
) -> Any:
    req = urllib.request.Request(
        f"http://127.0.0.1:{salv.http_port}{path}",
        method="POST" if body is not None else method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def admin_token(salv: Salvesti) -> str:
    cfg = str(salv.config_path)
    add = salv.cli("users", "add", "boss", "--role", "admin", "-c", cfg, input_=b"a-long-passw0rd\n")
    assert add.returncode == 0, add.stderr.decode()
    tok = salv.cli("tokens", "create", "boss", "-c", cfg)
    assert tok.returncode == 0, tok.stderr.decode()
    return tok.stdout.decode().strip().split()[-1]


def files_of(salv: Salvesti, call_id: str) -> list[Path]:
    return list(salv.recordings_dir.rglob(f"{call_id}*"))


def test_uninformed_employees_and_never_record_numbers_are_not_recorded(lab: Lab, audio):
    carrier = lab.provider("answer", ring_ms=300)
    salv = lab.salvesti(
        trunk=carrier,
        inbound_extensions=("102",),
        timeout_s=300,
        core_extra={
            "never_record": ["+37255599*"],
            "employee_notice": {"version": VERSION},
            "require_employee_notice": True,
        },
    )
    token = admin_token(salv)
    mari = api(salv, token, "/api/employees", {"name": "Mari Maasikas", "extension": "101"})
    api(salv, token, "/api/employees", {"name": "Jaan Tamm", "extension": "102"})
    ack = api(salv, token, f"/api/employees/{mari['id']}/acknowledgements", {"date": "2026-12-01"})
    assert ack["notice_version"] == VERSION and ack["method"] == "paper"

    phone101 = lab.phone("101", salv, audio=audio.phone_a, timeout_s=200)
    phone102 = lab.phone("102", salv, audio=audio.phone_b, auto_answer=True, timeout_s=200)

    # 1. the informed employee calls out: recorded, with the notice
    dial_out(phone101, salv, OUTSIDE)
    time.sleep(4.0)
    hang_up(phone101)
    informed = salv.wait_call(lambda c: c["extension"] == "101", timeout=20)
    assert "not_recorded" not in informed["meta"]
    assert informed["notice"]["played"] is True
    check_recording(informed)

    # 2. the uninformed one calls out: listed, not recorded, not told it is recorded
    dial_out(phone102, salv, "+3725550102")
    time.sleep(3.0)
    hang_up(phone102)
    uninformed = salv.wait_call(lambda c: c["remote_number"] == "+3725550102", timeout=20)
    assert uninformed["recording"] is None
    assert uninformed["meta"]["not_recorded"] == {
        "reason": "employee_notice",
        "detail": f"extension 102 has not acknowledged employee notice {VERSION}",
        "extensions": ["102"],
        "notice_version": VERSION,
    }
    assert uninformed["notice"]["played"] is False and uninformed["health"] == []
    assert files_of(salv, uninformed["id"]) == []

    # 3. a never-record number calls in: listed, not recorded, no notice
    uac = inbound_from_carrier(lab, salv, carrier, talk_ms=4000, caller=NEVER, name="carrier-never")
    assert uac.wait(40) == 0, "the never-record inbound call did not complete"
    never = salv.wait_call(lambda c: c["remote_number"] == NEVER, timeout=20)
    assert never["direction"] == "inbound" and never["disposition"] == "answered"
    assert never["recording"] is None
    assert never["meta"]["not_recorded"]["reason"] == "never_record"
    assert never["meta"]["not_recorded"]["rule"] == "+37255599*"
    assert never["notice"]["played"] is False
    assert files_of(salv, never["id"]) == []

    # 4. a normal caller, answered by the uninformed 102: the start (notice) is recorded before
    #    anyone answers; when 102 answers the recording stops and is deleted
    uac = inbound_from_carrier(lab, salv, carrier, talk_ms=9000, caller="+3725557001", name="carrier-normal")
    assert uac.wait(50) == 0, "the inbound call did not complete"
    answered = salv.wait_call(lambda c: c["remote_number"] == "+3725557001", timeout=20)
    assert answered["extension"] == "102" and answered["disposition"] == "answered"
    assert answered["notice"]["played"] is True  # the caller was told before anyone answered
    assert answered["recording"] is None
    assert answered["meta"]["not_recorded"]["reason"] == "employee_notice"
    assert files_of(salv, answered["id"]) == []
    assert "recording stopped" in salv.logs()
