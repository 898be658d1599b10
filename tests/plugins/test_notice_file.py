"""The audio_file notice: any WAV in, mono s16le at the asked rate out; clear setup errors."""

import wave

import numpy as np
import pytest
import voluptuous as vol

from salvesti.core.errors import SalvestiError
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.plugins.notice_file import SCHEMA, AudioFileNotice


def write_wav(path, rate, channels, seconds, width=2):
    t = np.arange(int(rate * seconds)) / rate
    mono = np.sin(2 * np.pi * 440 * t) * 0.25
    if width == 2:
        data = (mono * 32767).astype("<i2")
    else:
        data = ((mono * 127) + 128).astype(np.uint8)
    frames = np.repeat(data[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(channels)
        wf.setsampwidth(width)
        wf.setframerate(rate)
        wf.writeframes(frames.tobytes())


def hub_for(tmp_path):
    return Hub({}, config_path=tmp_path / "config.yaml", plugins=PluginManager())


@pytest.mark.parametrize(("rate", "channels", "width"), [(8000, 1, 2), (44100, 2, 2), (16000, 1, 1)])
async def test_any_wav_becomes_mono_s16_at_the_asked_rate(tmp_path, rate, channels, width):
    (tmp_path / "notices").mkdir()
    write_wav(tmp_path / "notices" / "et.wav", rate, channels, 1.5, width)
    conf = SCHEMA({"platform": "audio_file", "id": "et", "file": "notices/et.wav"})
    notice = AudioFileNotice.from_config(hub_for(tmp_path), conf)
    await notice.async_setup()
    assert notice.directions == ["inbound", "outbound"] and notice.lines is None
    assert notice.name == "et"
    for out_rate in (8000, 16000, 48000):
        pcm = notice.pcm(out_rate)
        assert len(pcm) // 2 == pytest.approx(1.5 * out_rate, abs=out_rate * 0.01)
        level = np.abs(np.frombuffer(pcm, "<i2")).max()
        assert 6000 < level < 10000  # a quarter of full scale, as written
    assert notice.pcm(8000) is notice.pcm(8000)  # cached
    assert notice.duration_s() == pytest.approx(1.5, abs=0.02)


async def test_missing_file_is_a_setup_error_that_names_the_file(tmp_path):
    conf = SCHEMA({"platform": "audio_file", "id": "et", "file": "notices/missing.wav", "name": "Teade"})
    notice = AudioFileNotice.from_config(hub_for(tmp_path), conf)
    assert notice.name == "Teade"
    with pytest.raises(SalvestiError) as err:
        await notice.async_setup()
    assert (
        str(err.value) == f"audio_file(et): notice file {tmp_path / 'notices' / 'missing.wav'} does not exist"
    )


async def test_unreadable_file_is_a_setup_error(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"this is not audio at all" * 10)
    notice = AudioFileNotice.from_config(
        hub_for(tmp_path), SCHEMA({"platform": "audio_file", "id": "x", "file": "bad.wav"})
    )
    with pytest.raises(SalvestiError, match=r"audio_file\(x\): cannot read notice file .*bad.wav"):
        await notice.async_setup()


def test_schema_checks_directions_and_lines(tmp_path):
    conf = SCHEMA(
        {
            "platform": "audio_file",
            "id": "x",
            "file": "a.wav",
            "directions": ["inbound"],
            "lines": ["+3726000000"],
        }
    )
    notice = AudioFileNotice.from_config(hub_for(tmp_path), conf)
    assert notice.directions == ["inbound"] and notice.lines == ["+3726000000"]
    with pytest.raises(vol.Invalid):
        SCHEMA({"platform": "audio_file", "id": "x", "file": "a.wav", "directions": ["sideways"]})
    with pytest.raises(vol.Invalid):
        SCHEMA({"platform": "audio_file", "id": "x"})
