"""One Chromium for every test of the namespace run, with the agent's speech as its microphone."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def mic_wav(audio, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """The agent's speech as Chromium's fake capture wants it (48 kHz stereo)."""
    out = tmp_path_factory.mktemp("mic") / "agent_48k.wav"
    subprocess.run(["sox", str(audio.phone_a), "-r", "48000", "-c", "2", str(out)], check=True)
    return out


@pytest.fixture(scope="session")
def browser(mic_wav: Path) -> Iterator[Browser]:
    assert os.environ.get("SALVESTI_NETNS") == "1", "run through test_e2e_browser_chromium.py"
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={mic_wav}",
                "--allow-loopback-in-peer-connection",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield b
        b.close()
