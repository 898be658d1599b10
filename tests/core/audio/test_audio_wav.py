"""The crash-safe WAV writer, its repair, and a real SIGKILL in the middle of a recording."""

import os
import signal
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from salvesti.core.audio.wav import WavError, WavWriter, read_wav, repair_wav


def frames(n: int, value: int = 1000) -> bytes:
    return np.full(2 * n, value, "<i2").tobytes()


def test_header_describes_everything_written_after_each_flush(tmp_path):
    path = tmp_path / "a.wav"
    w = WavWriter(path, 8000)
    w.write_frames(frames(8000))
    w.flush()
    # the file is a valid WAV now, while still open (what a crash would leave)
    with wave.open(str(path)) as wf:
        assert (wf.getnchannels(), wf.getsampwidth(), wf.getframerate(), wf.getnframes()) == (
            2,
            2,
            8000,
            8000,
        )
    w.write_frames(frames(4000))
    w.close()
    w.close()  # idempotent
    with wave.open(str(path)) as wf:
        assert wf.getnframes() == 12000
    assert read_wav(path).duration_s == pytest.approx(1.5)


def test_repair_fixes_sizes_and_drops_a_partial_frame(tmp_path):
    path = tmp_path / "cut.wav"
    w = WavWriter(path, 8000)
    w.write_frames(frames(8000))
    w.flush()
    w.write_frames(frames(4000))  # never flushed: header still says 1 s
    os.write(w._fd, b"\x01\x02\x03")  # and half a frame, as a crash mid-write leaves
    w.close(fsync=False)
    # undo the close's header fix-up to get exactly what a crash leaves
    with open(path, "r+b") as fh:
        fh.seek(40)
        fh.write(struct.pack("<I", 32000))
    assert repair_wav(path) == pytest.approx(1.5)
    with wave.open(str(path)) as wf:
        assert wf.getnframes() == 12000
    assert path.stat().st_size == 44 + 12000 * 4


def test_repair_of_a_file_cut_inside_its_header(tmp_path):
    path = tmp_path / "tiny.wav"
    path.write_bytes(b"RIFF\x00\x00")
    assert repair_wav(path, sample_rate=16000, channels=2) == 0.0
    assert read_wav(path).sample_rate == 16000
    other = tmp_path / "not.wav"
    other.write_bytes(b"x" * 100)
    with pytest.raises(WavError):
        repair_wav(other)


CHILD = r"""
import asyncio, sys, time
from datetime import datetime, timezone
from pathlib import Path
import numpy as np
from salvesti.core.call import Call, Direction
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.core.recording import CallRecording
from salvesti.plugins.sink_local import LocalSink

root = Path(sys.argv[1])
hub = Hub({}, config_path=root / "c.yaml", plugins=PluginManager())
sink = LocalSink(hub, "disk", root / "rec")
call = Call(id="crash-1", source="t", direction=Direction.INBOUND, line=None, remote_number=None,
            started_at=datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc))
frame = (np.sin(np.arange(160) * 2 * np.pi / 16) * 8000).astype("<i2").tobytes()

async def main():
    start = time.monotonic()
    rec = CallRecording(hub, call, sink)
    rec.start(start)
    print(rec.call.recording.path, flush=True)
    i = 0
    while True:
        due = start + i * 0.02
        await asyncio.sleep(max(due - time.monotonic(), 0))
        rec.put(0, frame, due)
        rec.put(1, frame, due)
        i += 1
        if i % 25 == 0:
            print(f"{time.monotonic() - start:.3f}", flush=True)

asyncio.run(main())
"""


def test_sigkill_mid_recording_leaves_a_file_that_repairs_to_within_a_second(tmp_path):
    from datetime import UTC, datetime

    from salvesti.core.call import Call, Direction, RecordingInfo
    from salvesti.core.hub import Hub
    from salvesti.core.plugins import PluginManager
    from salvesti.plugins.sink_local import LocalSink

    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        path = Path(proc.stdout.readline().strip())
        elapsed = 0.0
        deadline = time.monotonic() + 20
        while elapsed < 2.6 and time.monotonic() < deadline:
            elapsed = float(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert elapsed >= 2.6
    # what the crash left is already a playable WAV (header fixed up at the last flush)
    with wave.open(str(path)) as wf:
        assert wf.getnframes() > 8000

    hub = Hub({}, config_path=tmp_path / "c.yaml", plugins=PluginManager())
    sink = LocalSink(hub, "disk", tmp_path / "rec")
    call = Call(
        id="crash-1",
        source="t",
        direction=Direction.INBOUND,
        line=None,
        remote_number=None,
        started_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
    )
    call.recording = RecordingInfo(path=str(path))
    info = sink._repair(call)
    assert info is not None and info.status == "repaired"
    assert abs(info.duration_s - elapsed) <= 1.3  # at most the last second (+ reorder window) lost
    wav = read_wav(info.path)
    left = np.frombuffer(wav.frames, "<i2")[0::2]
    assert np.abs(left[-160:]).max() > 1000  # the audio runs up to the cut, no silent tail
