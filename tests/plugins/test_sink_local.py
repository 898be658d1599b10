"""The local sink: dated paths in the hub's timezone, wav/flac/opus, sha256, delete, repair."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest
import voluptuous as vol

from salvesti.core.audio.wav import read_wav
from salvesti.core.call import Call, Direction, RecordingInfo
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.plugins.sink_local import SCHEMA, LocalSink


def make_hub(tmp_path, tz="Europe/Tallinn"):
    return Hub(
        {"salvesti": {"timezone": tz, "data_dir": "data"}},
        config_path=tmp_path / "config.yaml",
        plugins=PluginManager(),
    )


def make_call(call_id="c1"):
    # 22:30 UTC on the 28th is 00:30 on the 29th in Tallinn: the folder must say 29
    return Call(
        id=call_id,
        source="t",
        direction=Direction.INBOUND,
        line=None,
        remote_number=None,
        started_at=datetime(2026, 11, 28, 22, 30, tzinfo=UTC),
    )


def stereo(seconds=1.0, rate=8000):
    t = np.arange(int(seconds * rate)) / rate
    left = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    right = (np.sin(2 * np.pi * 660 * t) * 4000).astype("<i2")
    return np.stack([left, right], 1).tobytes()


def check_file(info):
    """The info describes the whole file: absolute path, size and sha256."""
    path = Path(info.path)
    assert path.is_absolute() and path.exists()
    assert info.bytes == path.stat().st_size
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_schema_and_defaults(tmp_path):
    hub = make_hub(tmp_path)
    conf = SCHEMA({"platform": "local", "id": "disk"})
    assert conf["format"] == "wav"
    sink = LocalSink.from_config(hub, conf)
    assert sink.root == tmp_path / "data" / "recordings"
    sink = LocalSink.from_config(
        hub, SCHEMA({"platform": "local", "id": "d", "path": "rec", "format": "flac"})
    )
    assert sink.root == tmp_path / "rec" and sink.format == "flac"
    with pytest.raises(vol.Invalid):
        SCHEMA({"platform": "local", "id": "d", "format": "mp3"})


@pytest.mark.parametrize("fmt", ["wav", "flac", "opus"])
async def test_finalize_writes_the_dated_file_with_hash(tmp_path, fmt):
    hub = make_hub(tmp_path)
    sink = LocalSink(hub, "disk", tmp_path / "rec", fmt)
    await sink.async_setup()
    call = make_call()
    writer = sink.open(call, 8000)
    assert writer.path == tmp_path / "rec" / "2026" / "11" / "29" / "c1.wav"
    writer.write_frames(stereo(2.0))
    writer.flush()
    info = await sink.finalize(call, writer)
    path = Path(info.path)
    assert path == tmp_path / "rec" / "2026" / "11" / "29" / f"c1.{fmt}"
    assert info.status == "saved" and info.format == fmt
    assert (info.sample_rate, info.channels, info.duration_s) == (8000, 2, 2.0)
    check_file(info)
    assert sorted(p.name for p in path.parent.iterdir()) == [f"c1.{fmt}"]  # no leftover wav/.part
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.channels == 2
        decoded = sum(f.samples for f in container.decode(stream))
    assert decoded / stream.codec_context.sample_rate == pytest.approx(2.0, abs=0.05)
    assert await sink.delete(call) is True
    assert await sink.delete(call) is False  # nothing left to delete


@pytest.mark.parametrize("fmt", ["wav", "flac"])
async def test_repair_finishes_a_cut_off_recording(tmp_path, fmt):
    hub = make_hub(tmp_path)
    sink = LocalSink(hub, "disk", tmp_path / "rec", fmt)
    call = make_call()
    writer = sink.open(call, 8000)
    writer.write_frames(stereo(1.0))
    writer.flush()
    writer.write_frames(stereo(0.5))  # written but header not fixed: the crash came first
    call.recording = RecordingInfo(path=str(writer.path), format=fmt)
    # (the process died here; the file descriptor is simply gone)
    info = await sink.repair(call)
    writer.close(fsync=False)
    assert info is not None and info.status == "repaired"
    assert info.duration_s == pytest.approx(1.5)
    assert Path(info.path).suffix == f".{fmt}"
    check_file(info)
    if fmt == "wav":
        assert read_wav(info.path).duration_s == pytest.approx(1.5)


async def test_repair_without_a_file_returns_none(tmp_path):
    sink = LocalSink(make_hub(tmp_path), "disk", tmp_path / "rec")
    assert await sink.repair(make_call()) is None


async def test_setup_fails_clearly_when_the_folder_cannot_be_made(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    sink = LocalSink(make_hub(tmp_path), "disk", tmp_path / "file" / "rec")
    with pytest.raises(Exception, match=r"local\(disk\): cannot create recordings folder"):
        await sink.async_setup()
