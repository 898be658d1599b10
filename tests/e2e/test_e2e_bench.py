"""The call benchmark stays runnable: its load generator alone, and a tiny run through Salvesti."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from harness.procs import run

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "bench" / "calls.py"


def _bench(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "summary.json"
    res = run([sys.executable, str(BENCH), *args, "--json", str(out)], timeout=90)
    assert out.exists(), res.stderr.decode(errors="replace")[-3000:]
    summary = json.loads(out.read_text())
    assert res.returncode == 0, json.dumps(summary, indent=1) + res.stderr.decode(errors="replace")[-3000:]
    return summary


def test_bench_generator_alone_loses_nothing(tmp_path):
    s = _bench(tmp_path, "--direct", "--calls", "4", "--seconds", "1.5", "--rate", "20")
    assert s["completed"] == 4 and s["rtp_lost_phone_to_carrier"] == 0 and s["crossed_packets"] == 0
    assert s["rtp_received_phone_to_carrier"] >= 4 * 70


def test_bench_through_salvesti_small(tmp_path):
    s = _bench(tmp_path, "--calls", "3", "--seconds", "4", "--rate", "10", "--finalise-timeout", "20")
    assert s["completed"] == 3 and s["recordings"] == 3 and s["recordings_length_off"] == 0
    assert s["salvesti_cpu_s"] > 0 and s["peak_rss_mb"] > 0


def test_soak_runs_and_checks_every_recording(tmp_path):
    """bench/soak.py stays runnable: a few back-to-back calls per slot, each recording checked."""
    out = tmp_path / "soak.json"
    soak = BENCH.with_name("soak.py")
    flags = f"--minutes 0.4 --concurrent 2 --seconds 3 --sample 2 --json {out}".split()
    res = run([sys.executable, str(soak), *flags], timeout=120)
    assert out.exists(), res.stderr.decode(errors="replace")[-3000:]
    s = json.loads(out.read_text())
    assert s["calls_completed"] >= 4 and s["calls_failed"] == 0, s["errors"]
    assert s["recordings"] == s["calls_completed"] and s["recordings_missing"] == 0
    assert s["recording_files_missing"] == 0 and s["recordings_length_off_100ms"] == 0
    assert s["rtp_lost_phone_to_carrier"] == 0 and s["rtp_lost_carrier_to_phone"] == 0
    assert s["rtp_received_phone_to_carrier"] > 0 and s["samples"]
    assert s["fds_idle_end"][1] <= s["fds_idle_end"][0] + 2  # every call's sockets were closed


def test_s3_upload_bench_runs_both_parts(tmp_path):
    """bench/s3_upload.py stays runnable: a few recordings (one multipart) and two calls to S3."""
    out = tmp_path / "s3.json"
    script = BENCH.with_name("s3_upload.py")
    flags = "--files 3 --large 1 --large-mib 17 --calls 2 --talk 2 --deadline 30".split()
    res = run([sys.executable, str(script), *flags, "--json", str(out)], timeout=150)
    assert out.exists(), res.stderr.decode(errors="replace")[-3000:]
    s = json.loads(out.read_text())
    assert res.returncode == 0, json.dumps(s, indent=1)
    a, b = s["sink_alone"], s["end_to_end"]
    assert a["objects"] == 4 and a["multipart_objects"] == 1 and a["spooled"] == 0
    assert a["sha256_mismatch"] == 0 and a["mb_per_s"] > 0 and a["per_upload_s"]["n"] == 3
    assert b["in_object_store"] == 2 and b["objects"]["ok"] == 2 and b["clean"]
    assert b["ended_to_s3_path_s_upper_bound"]["n"] == 2
