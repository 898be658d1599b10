"""The pause code on a real desk phone's keypad (baresip sends RFC 4733 events).

``salvesti.pause_code: "*7"``: pressed once the recording pauses (both channels silent),
pressed again it resumes; the caller never gets the code's events; the call lists the pause
with ``by: keypad``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from harness.checks import check_recording
from harness.flows import inbound_from_carrier
from harness.lab import Lab

pytestmark = pytest.mark.e2e


def test_keypad_code_pauses_and_resumes_the_recording(lab: Lab, audio) -> None:
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier, core_extra={"pause_code": "*7"})
    phone = lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)
    uac = inbound_from_carrier(lab, salv, carrier, talk_ms=14000)
    phone.wait_event("CALL_ESTABLISHED", 20)
    time.sleep(4.0)
    for key in "*7":
        phone.command("sndcode", key)
        time.sleep(0.3)
    time.sleep(3.0)
    for key in "*7":
        phone.command("sndcode", key)
        time.sleep(0.3)
    assert uac.wait(40) == 0
    call = salv.wait_call()
    pauses = call["pauses"]
    assert len(pauses) == 1 and pauses[0]["by"] == "keypad", pauses
    start, end = pauses[0]["start_s"], pauses[0]["end_s"]
    assert 2.5 <= end - start <= 4.5, pauses
    rec = check_recording(call)
    rate = rec.rate
    inside = rec.samples[int((start + 0.1) * rate) : int((end - 0.1) * rate)]
    assert not np.any(inside), "the paused span is not silent"
    after = rec.samples[int((end + 0.5) * rate) :, 0]
    assert np.abs(after).max() > 500, f"no speech after the resume: {rec.loudness(0)}"
