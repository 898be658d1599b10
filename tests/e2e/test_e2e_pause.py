"""Pause and resume through the API during a real call: silence inside, speech outside, audited.

An internal call (baresip 101 → baresip 102, recorded) is paused and resumed with the HTTP
API while both phones keep talking.  Time passes by waiting for the recording file to grow
(bounded waits on a condition, never a fixed sleep between the steps).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from harness.audio import active_fraction
from harness.checks import check_recording
from harness.flows import hang_up
from harness.lab import Lab
from harness.procs import wait_for
from harness.salvesti import Salvesti

pytestmark = pytest.mark.e2e

BYTES_PER_S = 8000 * 2 * 2  # the in-progress WAV: 8 kHz stereo s16


def api(salv: Salvesti, token: str, path: str, method: str = "GET") -> Any:
    req = urllib.request.Request(
        f"http://127.0.0.1:{salv.http_port}{path}",
        method=method,
        data=b"{}" if method == "POST" else None,
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


def wait_recorded(path: Path, seconds: float) -> None:
    """Until the in-progress recording holds ``seconds`` of audio."""
    wait_for(
        lambda: path.exists() and path.stat().st_size >= 44 + seconds * BYTES_PER_S,
        seconds + 15,
        interval=0.2,
        what=f"{seconds:.1f} s recorded in {path.name}",
    )


def test_a_call_paused_and_resumed_through_the_api(lab: Lab, audio):
    salv = lab.salvesti(source_extra={"record_internal": True})
    token = admin_token(salv)
    caller = lab.phone("101", salv, audio=audio.phone_a)
    callee = lab.phone("102", salv, audio=audio.phone_b, auto_answer=True)
    caller.dial(f"sip:102@{salv.address}")
    caller.wait_event("CALL_ESTABLISHED", 10)
    callee.wait_event("CALL_ESTABLISHED", 5)

    live = wait_for(
        lambda: next((c for c in api(salv, token, "/api/calls")["calls"] if c["recording"]), None),
        10,
        what="the call in progress with its recording",
    )
    assert live["ended_at"] is None
    path = Path(live["recording"]["path"])
    wait_recorded(path, 3.0)
    paused = api(salv, token, f"/api/calls/{live['id']}/pause", "POST")
    start_s = paused["pauses"][0]["start_s"]
    wait_recorded(path, start_s + 3.0)
    resumed = api(salv, token, f"/api/calls/{live['id']}/resume", "POST")
    end_s = resumed["pauses"][0]["end_s"]
    wait_recorded(path, end_s + 3.0)
    hang_up(caller)

    call = salv.wait_call()
    assert call["id"] == live["id"]
    assert call["pauses"] == [{"start_s": start_s, "end_s": end_s, "by": "boss", "resumed_by": "boss"}]
    assert end_s - start_s >= 2.9
    rec = check_recording(call)
    rate = rec.rate
    # start_s/end_s are rounded to the millisecond: look inside by that much
    inside = rec.samples[int((start_s + 0.001) * rate) : int((end_s - 0.001) * rate)]
    assert not np.any(inside), "audio inside the pause is not digital silence"
    for ch in (0, 1):
        before = rec.samples[int((start_s - 2.5) * rate) : int(start_s * rate), ch]
        after = rec.samples[int(end_s * rate) : int((end_s + 2.5) * rate), ch]
        assert active_fraction(before, rate) > 0.3, f"channel {ch}: no speech before the pause"
        assert active_fraction(after, rate) > 0.3, f"channel {ch}: no speech after the pause"

    log = api(salv, token, f"/api/audit?call_id={call['id']}")
    entries = log["entries"] if isinstance(log, dict) else log
    actions = sorted(e["action"] for e in entries if e["action"] in ("pause", "resume"))
    assert actions == ["pause", "resume"]
