"""Run inside a fresh network namespace by test_e2e_setup_run.py (port 5060 free, only lo):
``salvesti run -c FILE`` on a missing FILE serves setup, the wizard is walked over HTTP, then
the same process starts the hub with the new config, where the new admin logs in.  Exits 0
and prints HANDOVER OK when all of that held."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

BASE = "http://127.0.0.1:18080"
PASSWORD = "Long-enough-pass-9"


def post(path: str, body: dict, token: str = "") -> tuple[int, dict]:
    req = urllib.request.Request(
        BASE + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Setup-Token": token},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def read_until(stream, pattern: str) -> re.Match[str]:
    seen = ""
    for line in stream:  # ends at EOF if the process dies
        seen += line
        m = re.search(pattern, seen)
        if m:
            return m
    raise SystemExit(f"never saw {pattern!r}:\n{seen}")


def main(folder: Path) -> int:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "salvesti",
            "run",
            "-c",
            str(folder / "config.yaml"),
            "--setup-listen",
            "127.0.0.1:18080",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        code = read_until(proc.stderr, r"setup code:\s+(\S+)").group(1)
        token = post("/api/setup/code", {"code": code})[1]["token"]
        steps = [
            ("owner", {"name": "mari", "password": PASSWORD, "again": PASSWORD}),
            ("purpose", {"purpose": "Müügikoolitus"}),
            ("carrier", {"preset": "none"}),
            ("numbers", {"extensions": [{"user": "101", "name": "Mari"}], "inbound": {}}),
            ("notice", {"kind": "bundled", "language": "et"}),
            ("retention", {"days": {"default": 10}}),
            ("employees", {"employees": ["Mari Maasikas"]}),
        ]
        for step, body in steps:
            status, data = post(f"/api/setup/step/{step}", body, token)
            assert status == 200, (step, data)
        status, data = post("/api/setup/finish", {}, token)
        assert status == 200 and data["admin_error"] is None, data
        read_until(proc.stderr, r"salvesti: running with ")
        status, data = post("/api/auth/login", {"username": "mari", "password": PASSWORD})
        assert status == 200 and data["user"]["role"] == "admin", (status, data)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0, proc.returncode
    print("HANDOVER OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
