"""The analysis reads an encrypted recording with its data key, in the worker's memory only."""

from __future__ import annotations

import numpy as np

from salvesti.core.crypto.sealed import SealedWriter
from salvesti.plugins.analysis.worker import Job, analyse, build_steps
from salvesti.testing.speech import speak, write_stereo

KEY = bytes(range(32))


def test_a_sealed_recording_is_analysed_like_the_plain_one(tmp_path):
    left = speak("Hello, I would like to order a cake for Saturday.", tmp_path / "l.wav").astype(np.int16)
    right = np.roll(left, len(left) // 2)
    plain = tmp_path / "c1.wav"
    write_stereo(plain, left, right)
    sealed = tmp_path / "c1.wav.enc"
    writer = SealedWriter(sealed, KEY, 8000)
    writer.write_frames(np.column_stack([left, right]).astype("<i2").tobytes())
    writer.close()
    call = {"notice": {}, "pauses": []}
    steps = build_steps({})
    want = analyse(Job("c1", call, str(plain)), steps)
    got = analyse(Job("c1", call, str(sealed), key=KEY), steps)
    assert want.ok and got.ok, (want.error, got.error)
    assert got.result["talk"] == want.result["talk"] and got.result["talk"]["outside_s"] > 1
    wrong = analyse(Job("c1", call, str(sealed), key=bytes(32)), steps)
    assert not wrong.ok and wrong.permanent and "cannot be read" in (wrong.error or "")
