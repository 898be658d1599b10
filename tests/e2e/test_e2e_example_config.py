"""config.example.yaml works as the README promises: valid, runs, and two phones call each other.

The file is used as shipped except for its ports (5060/8080/10000-10999 may be taken on a
test machine), which are moved to free ones; paths stay relative to the copied file.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from harness.baresip import Baresip
from harness.checks import assert_contains, check_recording
from harness.flows import hang_up
from harness.lab import Lab
from harness.ports import PORTS
from harness.procs import ManagedProcess, wait_for
from harness.salvesti import REPO, calls_json, salvesti_argv, salvesti_env
from harness.sipwire import options_status

pytestmark = pytest.mark.e2e


def _copy_example(dest: Path) -> tuple[Path, int]:
    text = (REPO / "config.example.yaml").read_text()
    sip, http = PORTS.port(), PORTS.port()
    rtp_min, rtp_max = PORTS.block(40)
    text, n1 = re.subn(r"listen: 127\.0\.0\.1:5060", f"listen: 127.0.0.1:{sip}", text)
    text, n2 = re.subn(r"listen: 127\.0\.0\.1:8080", f"listen: 127.0.0.1:{http}", text)
    text, n3 = re.subn(r"rtp_ports: 10000-10999", f"rtp_ports: {rtp_min}-{rtp_max}", text)
    assert (n1, n2, n3) == (1, 1, 1), "config.example.yaml no longer has the ports this test moves"
    dest.mkdir(parents=True)
    (dest / "config.yaml").write_text(text)
    shutil.copytree(REPO / "notices", dest / "notices")
    return dest / "config.yaml", sip


def test_example_config_runs_and_two_phones_call_each_other(lab: Lab, audio, tmp_path):
    config, sip_port = _copy_example(tmp_path / "example")
    proc = ManagedProcess(
        "salvesti-example",
        [*salvesti_argv(), "check-config", "-c", str(config)],
        log_dir=tmp_path,
        timeout_s=30,
        env=salvesti_env(),
    ).start()
    assert proc.wait(35) == 0, proc.logs()

    run = ManagedProcess(
        "salvesti-example-run",
        [*salvesti_argv(), "run", "-c", str(config)],
        log_dir=tmp_path,
        timeout_s=90,
        cwd=config.parent,
        env=salvesti_env(),
    ).start()
    lab._items.append(run)
    wait_for(
        lambda: options_status(sip_port, timeout=0.5) == 200, 20, interval=0.2, what="example OPTIONS 200"
    )

    exts = {e["user"]: e["password"] for e in yaml.safe_load(config.read_text())["sources"][0]["extensions"]}
    host = f"127.0.0.1:{sip_port}"
    caller = lab.baresip(
        "ex101", aor=Baresip.account("101", host, password=exts["101"], register=True), audio=audio.phone_a
    )
    callee = lab.baresip(
        "ex102",
        aor=Baresip.account("102", host, password=exts["102"], register=True, auto_answer=True),
        audio=audio.phone_b,
    )
    caller.wait_registered(8)
    callee.wait_registered(8)
    caller.dial(f"sip:102@{host}")
    caller.wait_event("CALL_ESTABLISHED", 10)
    time.sleep(5.0)
    hang_up(caller)

    def ended():
        calls = calls_json(config)
        return [c for c in calls if c.get("ended_at") and (c.get("recording") or {}).get("sha256")]

    call = wait_for(ended, 15, interval=0.5, what="the internal call listed with its recording")[0]
    assert call["direction"] == "internal" and call["disposition"] == "answered"
    rec = check_recording(call)
    assert Path(call["recording"]["path"]).is_relative_to(config.parent / "data")
    assert_contains(rec, 0, audio.phone_a, start_s=1.0, others=(audio.phone_b,))
