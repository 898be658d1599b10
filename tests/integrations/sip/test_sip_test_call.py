"""The test call in-process: the hub with a sip_trunk source, real baresip phones.

Which line's notice the phone hears (the extension's own ``line``), that the recording is
made with ``record_internal`` off, the control socket's ``test_call`` op (refused: not
registered; answered with ``wait``), and a phone that rings unanswered (``no_answer``, its
INVITE cancelled).  The ring time is shortened for the last one; everything else is the
product's own code path.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sip_lab import PORTS, Lab, read_stereo, rms, tone, write_wav

from salvesti.core import control
from salvesti.core import test_call as core_test_call

LINE_A, LINE_B = "+3726000000", "+3726000001"


async def start(lab: Lab) -> Any:
    """Two lines with a notice each (440 Hz and 1500 Hz tones); 101 belongs to line B."""
    notice_a = write_wav(lab.tmp / "notice-a.wav", tone(1.0, 440.0))
    notice_b = write_wav(lab.tmp / "notice-b.wav", tone(1.0, 1500.0))
    carrier_port = PORTS.port()
    return await lab.start_hub(
        {
            "trunk": {
                "registrar": f"127.0.0.1:{carrier_port}",
                "username": "3726000000",
                "password": "tp",
                "register": False,
            },
            "lines": [LINE_A, LINE_B],
            "inbound": {LINE_A: ["101", "102"]},
            "extensions": [
                {"user": "101", "password": "secret-101", "line": LINE_B},
                {"user": "102", "password": "secret-102"},
            ],
        },
        notices=False,
        config={
            "notices": [
                {"platform": "audio_file", "id": "line_a", "file": str(notice_a), "lines": [LINE_A]},
                {"platform": "audio_file", "id": "line_b", "file": str(notice_b), "lines": [LINE_B]},
            ]
        },
    )


async def register(lab: Lab, user: str, **kw: Any) -> None:
    await lab.baresip(user, **kw).start()
    await lab.wait_for(
        lambda: lab.source.registrar.registered(time.monotonic()).get(user), 10, f"{user} REGISTER"
    )


def dominant_hz(samples: list[int], rate: int) -> float:
    x = np.asarray(samples, dtype=float)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(np.argmax(spectrum))])


async def test_the_phone_hears_its_own_lines_notice_then_the_beep(lab: Lab) -> None:
    await start(lab)
    await register(lab, "101")
    assert [t.extension for t in core_test_call.targets(lab.hub) if t.registered] == ["101"]
    call = await lab.source.test_call("101", seconds=1.5)
    assert call.meta["test_call"] is True and call.meta["test"]["notice_line"] == LINE_B
    ended = await lab.wait_for(lambda: [c for c in lab.ended if c["id"] == call.id], 20, "the end")
    done = ended[0]
    assert done["disposition"] == "answered" and done["direction"] == "internal"
    assert done["notice"]["name"] == "notice-b" and done["notice"]["complete"]
    left, right, rate = read_stereo(done["recording"]["path"])  # record_internal is off
    assert abs(dominant_hz(right[800:7200], rate) - 1500) < 20, "not line B's notice"
    assert abs(dominant_hz(right[int(1.1 * rate) : int(1.4 * rate)], rate) - 1000) < 20, "no 1 kHz beep"
    assert rms(left[int(0.5 * rate) : int(2.5 * rate)]) > 1000, "the phone's tone is not on the left"
    assert len(left) / rate >= 1.0 + 0.5 + 1.5
    assert lab.source.flows.testing == {}


async def test_the_control_socket_refuses_an_unregistered_phone_and_waits_for_an_answered_one(
    lab: Lab,
) -> None:
    hub = await start(lab)
    await register(lab, "101")
    path = control.socket_path(hub.data_dir)
    refused = await control.request(path, {"op": "test_call", "extension": "102"}, limit=10)
    assert refused == {
        "ok": False,
        "error": "extension 102 is not registered: is the phone on and signed in to Salvesti?",
        "reason": "not_registered",
    }
    unknown = await control.request(path, {"op": "test_call", "extension": "999"}, limit=10)
    assert unknown["reason"] == "unknown_extension"
    answer = await control.request(
        path, {"op": "test_call", "extension": "101", "seconds": 1, "wait": True}, limit=30
    )
    assert answer["ok"], answer
    assert answer["call"]["disposition"] == "answered" and answer["call"]["recording"]["sha256"]
    assert core_test_call.outcome_words(answer["call"]).startswith("extension 101 answered; recording saved")


async def test_a_phone_nobody_answers_ends_as_no_answer(lab: Lab, monkeypatch: Any) -> None:
    monkeypatch.setattr(core_test_call, "RING_SECONDS", 2.0)
    await start(lab)
    await register(lab, "102", answer="manual")
    call = await lab.source.test_call("102", seconds=1)
    ended = await lab.wait_for(lambda: [c for c in lab.ended if c["id"] == call.id], 10, "the end")
    assert ended[0]["disposition"] == "no_answer" and ended[0]["recording"] is None
    assert core_test_call.outcome_words(ended[0]) == "extension 102 did not answer within 2 s"
