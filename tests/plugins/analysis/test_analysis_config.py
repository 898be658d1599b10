"""The ``analysis:`` block through ``salvesti check-config``: a purpose of its own, a model that
exists, lines that exist, and problems at file and line like every other block."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SALVESTI = str(Path(sys.executable).parent / "salvesti")

BASE = """
salvesti:
  purpose: "Klienditeeninduse kvaliteedi parandamine"
sources:
  - platform: sip_trunk
    id: office
    listen: 127.0.0.1:5060
    rtp_ports: 10000-10999
    lines: ["+3726000000"]
    trunk: {registrar: 127.0.0.1:5099, username: "3726000000", password: x}
    extensions:
      - {user: "101", password: "a-long-password-101"}
    inbound: {"+3726000000": ["101"]}
    no_notice: {"+3726000000": "test config"}
"""


def check(tmp_path: Path, analysis: str) -> subprocess.CompletedProcess[str]:
    text = textwrap.dedent(BASE).lstrip() + textwrap.dedent(analysis)
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    return subprocess.run(
        [SALVESTI, "check-config", "-c", "config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_valid_block_passes(tmp_path):
    model = tmp_path / "models" / "mine"
    model.mkdir(parents=True)
    (model / "model.bin").write_bytes(b"x")
    (model / "config.json").write_text("{}")
    done = check(
        tmp_path,
        """
        analysis:
          purpose: "Müügikõnede analüüs"
          lines: ["+3726000000"]
          transcription: {model: models/mine, language: et}
          trackers:
            - {id: price, phrases: ["hind", "allahindlus", "price"]}
        """,
    )
    assert done.returncode == 0, done.stderr


def test_analysis_without_its_own_purpose_is_refused(tmp_path):
    done = check(tmp_path, "analysis:\n  lines: ['+3726000000']\n")
    assert done.returncode == 2
    assert "config.yaml:14: analysis: required key 'purpose' not provided" in done.stderr, done.stderr


def test_missing_model_unknown_line_and_duplicate_tracker_point_at_their_lines(tmp_path):
    done = check(
        tmp_path,
        """
        analysis:
          purpose: "Müügikõnede analüüs"
          lines: ["+3726000000", "+3726999999"]
          transcription: {model: /nowhere/whisper-base}
          trackers:
            - {id: price, phrases: ["hind"]}
            - {id: price, phrases: ["price"]}
        """,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert any(
        x.startswith("config.yaml:18: analysis.transcription.model: no model folder") for x in lines
    ), lines
    assert any(
        x.startswith("config.yaml:17: analysis.lines[1]: '+3726999999' is not a line") for x in lines
    ), lines
    assert any(
        x.startswith("config.yaml:21: analysis.trackers[1].id: duplicate tracker id") for x in lines
    ), lines


def test_typo_in_the_block_gets_a_suggestion(tmp_path):
    done = check(tmp_path, "analysis:\n  purpose: x\n  trakers: []\n")
    assert done.returncode == 2
    assert (
        "config.yaml:16: analysis.trakers: extra key not allowed, did you mean 'trackers'?" in done.stderr
    ), done.stderr


def test_a_packaged_model_name_resolves_offline(tmp_path):
    done = check(tmp_path, "analysis:\n  purpose: x\n  transcription: {model: tiny.en, language: en}\n")
    assert done.returncode == 0, done.stderr
