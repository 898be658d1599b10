"""``salvesti check-config`` on serial_at mistakes: a mistyped profile, a device path that
is relative or empty.  The device is not required to exist at check time (USB devices come
and go; the source retries at run time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SALVESTI = str(Path(sys.executable).parent / "salvesti")
DEVICE_HINT = "must be an absolute device path such as /dev/serial/by-id/... or /dev/ttyUSB0"


def check(tmp_path: Path, *, device: str, profile: str, audio: str | None = None) -> list[str]:
    lines = [
        "salvesti: {purpose: test}",
        "sources:",
        "  - platform: serial_at",
        "    id: gsm",
        f"    device: {device}",
        f"    profile: {profile}",
        '    line: "+37255500000"',
        '    no_notice: "the carrier announces it"',
    ]
    if audio is not None:
        lines.append(f"    audio_device: {audio}")
    (tmp_path / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [SALVESTI, "check-config"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    if result.returncode == 0:
        assert result.stdout == "config.yaml: configuration is valid\n"
        return []
    assert result.returncode == 2, result.stderr
    return result.stderr.splitlines()


def test_mistyped_profile_gets_the_closest_name(tmp_path):
    assert check(tmp_path, device="/dev/ttyUSB2", profile="simcom_sim760", audio="/dev/ttyUSB4") == [
        "config.yaml:6: sources[0].profile: unknown profile 'simcom_sim760', did you mean 'simcom_sim7600'?"
    ]


def test_unknown_profile_lists_the_available_ones(tmp_path):
    assert check(tmp_path, device="/dev/ttyUSB2", profile="huawei_e173") == [
        "config.yaml:6: sources[0].profile: unknown profile 'huawei_e173' "
        "(available: quectel_ec2x, simcom_sim7600, v253_voice_modem)"
    ]


@pytest.mark.parametrize("device", ["ttyUSB0", "./ttyUSB0", "dev/serial/by-id/x", '""'])
def test_relative_or_empty_device_path(tmp_path, device):
    assert check(tmp_path, device=device, profile="v253_voice_modem") == [
        f"config.yaml:5: sources[0].device: {DEVICE_HINT}"
    ]


def test_relative_audio_device_path(tmp_path):
    errors = check(tmp_path, device="/dev/ttyUSB2", profile="quectel_ec2x", audio="ttyUSB4")
    assert errors == [f"config.yaml:9: sources[0].audio_device: {DEVICE_HINT}"]


def test_absent_device_is_not_an_error_at_check_time(tmp_path):
    missing = str(tmp_path / "no-such-device")
    assert check(tmp_path, device=missing, profile="simcom_sim7600", audio=missing + "-audio") == []
