"""Stopping Salvesti mid-call: SIGTERM finalises the recording; kill -9 leaves a repairable file."""

from __future__ import annotations

import time

import pytest
from harness.audio import check_wav_header, sha256_of
from harness.checks import assert_contains, check_call_shape, check_recording
from harness.flows import dial_out
from harness.lab import Lab

pytestmark = pytest.mark.e2e


def test_sigterm_mid_call_finalises_the_recording(lab: Lab, audio):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv, audio=audio.phone_a)

    dial_out(phone, salv)
    time.sleep(5.0)
    rc = salv.terminate(timeout=20)
    assert rc == 0, f"salvesti exited {rc} on SIGTERM"

    calls = salv.calls()  # the CLI works with Salvesti stopped
    assert len(calls) == 1, calls
    call = calls[0]
    check_call_shape(call)
    assert call["ended_at"], "the call was not ended on shutdown"
    rec = check_recording(call)  # header valid, sha256 and bytes of the whole file
    assert rec.duration_s > 4.0
    assert_contains(rec, 0, audio.outside, start_s=0.5)


def test_kill9_mid_call_leaves_a_file_the_next_start_repairs(lab: Lab, audio):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv, audio=audio.phone_a)

    dial_out(phone, salv)
    time.sleep(5.0)
    salv.kill9()
    files = list(salv.recordings_dir.rglob("*.wav"))
    assert len(files) == 1, f"expected one partial recording on disk, found {files}"
    assert files[0].stat().st_size > 44 + 8000 * 4, "less than a second of audio reached the disk"
    phone.stop()

    salv.start()  # the next start repairs
    call = salv.wait_call(timeout=20)
    check_call_shape(call)
    rec = call["recording"]
    assert rec and rec["path"] == str(files[0]), f"repaired call points at {rec and rec['path']}"
    info = check_wav_header(files[0])
    assert info.channels == 2 and info.bits == 16
    assert info.duration_s >= 3.5, f"repair kept only {info.duration_s:.2f} s of a ~5 s call"
    assert rec["sha256"] == sha256_of(files[0]) and rec["bytes"] == files[0].stat().st_size
    assert abs(rec["duration_s"] - info.duration_s) < 0.05
    assert_contains(check_recording(call, length_tolerance_s=1.5), 0, audio.outside, start_s=0.5)
