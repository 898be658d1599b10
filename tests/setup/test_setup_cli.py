"""`salvesti setup` and `salvesti run` without a config, as processes: the code and the
address are printed on the terminal, Ctrl+C writes nothing, an existing config is refused."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest


def start(args: list[str]) -> tuple[subprocess.Popen[str], str, str]:
    """Start the command; (process, the page's URL, the setup code) once it has printed them."""
    proc = subprocess.Popen([sys.executable, "-m", "salvesti", *args], stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = ""
    for line in proc.stderr:  # bounded: the process prints these lines, or ends (and EOF ends the loop)
        seen += line
        code = re.search(r"setup code:\s+([A-Z0-9]{4}-[A-Z0-9]{4})", seen)
        if code:
            url = re.search(r"(http://127\.0\.0\.1:\d+/)", seen)
            assert url, seen
            return proc, url.group(1), code.group(1)
    raise AssertionError(f"no setup code printed: {seen}")


def post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize("command", [["setup", "--listen"], ["run", "--setup-listen"]])
def test_code_printed_and_interrupt_writes_nothing(tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "config.yaml"
    proc, url, code = start([command[0], "-c", str(config), command[1], "127.0.0.1:0"])
    try:
        status, data = post(url + "api/setup/code", {"code": code})
        assert status == 200 and data["token"]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "stopped; nothing was written" in err
    assert list(tmp_path.iterdir()) == []


def test_setup_refuses_an_existing_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("salvesti: {purpose: x}\n")
    done = subprocess.run(
        [sys.executable, "-m", "salvesti", "setup", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "exists already, so setup will not run again" in done.stderr
