"""The bundled notices (Estonian, Russian, English): each is audio the notice player takes, and
picking one in the wizard writes a config that names it and passes check-config."""

from __future__ import annotations

import wave
from pathlib import Path

import aiohttp
import pytest
from setup_env import plugins
from test_setup_app import (  # noqa: F401  (http and server are fixtures)
    assert_check_config_passes,
    http,
    log_in,
    post,
    server,
    walk,
)

from salvesti.core.audio.convert import decode_to_mono
from salvesti.core.config import load_config
from salvesti.setup.notices import LANGUAGES, bundled


def test_every_language_ships() -> None:
    assert sorted(bundled()) == sorted(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bundled_notice_is_telephone_audio_of_a_sentence(lang: str) -> None:
    path = bundled()[lang]
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        seconds = w.getnframes() / w.getframerate()
    assert 1.0 <= seconds <= 6.0, seconds  # a short sentence, not a click and not a speech
    pcm = decode_to_mono(path, 8000)  # what the notice player does with it
    samples = memoryview(pcm).cast("h")
    assert len(samples) == round(seconds * 8000)
    assert max(abs(x) for x in samples) > 8000  # normalised speech, not silence


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_chosen_notice_is_written_and_validates(
    http: aiohttp.ClientSession,  # noqa: F811
    tmp_path: Path,
    lang: str,
) -> None:
    token = await log_in(http)
    async with http.get(f"/api/setup/notice/audio?lang={lang}", headers={"X-Setup-Token": token}) as r:
        assert r.status == 200 and await r.read() == bundled()[lang].read_bytes()  # the page plays it
    await walk(http, token, notice={"kind": "bundled", "language": lang})
    status, data = await post(http, "/api/setup/finish", {}, token)
    assert status == 200, data

    [notice] = load_config(tmp_path / "config.yaml", plugins())["notices"]
    assert notice["file"] == f"notices/{lang}.wav"
    assert (tmp_path / "notices" / f"{lang}.wav").read_bytes() == bundled()[lang].read_bytes()
    await assert_check_config_passes(tmp_path / "config.yaml")
