"""``salvesti run`` with JSON logs: every stderr line one object, call lines carry the call id."""

from __future__ import annotations

import json
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from test_cli import CONFIG, make_call, seed
from test_cli_run import SALVESTI, wait_until

KEYS = {"time", "level", "logger", "message", "node"}


def _run_until_running(folder: Path, *args: str) -> list[dict[str, str]]:
    seed(folder, [make_call(folder, 1, minutes=1, line="+3726999999")])  # swept at start
    log = folder / "run.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [SALVESTI, "run", "-c", "config.yaml", *args], cwd=folder, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        wait_until(lambda: '"message": "running with' in log.read_text(), what="the running line")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    lines = log.read_text().splitlines()
    assert lines
    return [json.loads(line) for line in lines]  # a line that is not JSON fails here


@pytest.mark.timeout(60)
def test_log_format_flag_gives_one_json_object_per_line(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(textwrap.dedent(CONFIG).lstrip(), encoding="utf-8")
    entries = _run_until_running(tmp_path, "--log-format", "json")
    for entry in entries:
        assert KEYS <= entry.keys() and entry["time"].endswith("Z"), entry
    deleted = [e for e in entries if "recording deleted" in e["message"]]
    assert [(e["call_id"], e["level"], e["logger"]) for e in deleted] == [
        ("c1", "info", "salvesti.core.retention")
    ]
    running = [e for e in entries if e["message"].startswith("running with")]
    assert [(e["logger"], "call_id" in e) for e in running] == [("salvesti", False)]


@pytest.mark.timeout(60)
def test_log_format_from_the_config_with_the_node(tmp_path: Path) -> None:
    config = (
        textwrap.dedent(CONFIG)
        .lstrip()
        .replace("salvesti:\n", "salvesti:\n  log_format: json\n  node: box-a\n")
    )
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    entries = _run_until_running(tmp_path)
    assert {e["node"] for e in entries} == {"box-a"}


def test_a_bad_log_format_is_a_config_error(tmp_path: Path) -> None:
    config = textwrap.dedent(CONFIG).lstrip().replace("salvesti:\n", "salvesti:\n  log_format: xml\n")
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    done = subprocess.run(
        [SALVESTI, "check-config", "-c", "config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("config.yaml:2: salvesti.log_format: ")
