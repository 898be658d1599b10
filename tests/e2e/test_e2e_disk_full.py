"""A full disk under the recordings: the calls go on, nothing is lost that was finished, the
owner is told, and the box keeps serving.

Salvesti runs in a mount namespace of its own (``unshare -m``) whose recordings folder is a
160 kB tmpfs: the first call's recording fills it (a WAV second is 32 kB), the second finds
it full.  The database is on the real disk, so both calls must be listed as answered, every
recording that could not be written marked failed with a health problem and the reason in the
log, and the next call still taken.
"""

from __future__ import annotations

import time

import pytest
from harness.flows import dial_out, hang_up
from harness.lab import Lab

pytestmark = pytest.mark.e2e


def test_disk_full_under_the_recordings(lab: Lab, audio) -> None:
    carrier = lab.provider("answer", ring_ms=300)
    mount = 'mkdir -p recordings && mount -t tmpfs -o size=160k tmpfs recordings && exec "$@"'
    salv = lab.salvesti(trunk=carrier, wrapper=["unshare", "-m", "sh", "-c", mount, "sh"])
    phone = lab.phone("101", salv, audio=audio.phone_a, timeout_s=120)

    for _ in range(2):
        dial_out(phone, salv)
        time.sleep(6.0)
        hang_up(phone)
        time.sleep(1.0)
    calls = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len([c for c in calls if c.get("ended_at")]) < 2:
        calls = salv.calls()
        time.sleep(0.5)
    ended = [c for c in calls if c.get("ended_at")]
    assert len(ended) == 2, calls
    assert all(c["disposition"] == "answered" for c in ended), ended
    failed = [c for c in ended if (c.get("recording") or {}).get("status") == "failed"]
    assert failed, f"no call says its recording failed: {[c.get('recording') for c in ended]}"
    assert all(c.get("health") for c in failed), f"a failed recording must be flagged: {failed}"
    assert "No space left on device" in salv.logs() or "ENOSPC" in salv.logs()
    # Still serving: the process answers and takes the next call.
    dial_out(phone, salv)
    time.sleep(3.0)
    hang_up(phone)
    assert salv.proc is not None and salv.proc.running()
    assert len(carrier.requests("INVITE")) == 3
