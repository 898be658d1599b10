"""Modem profiles: every shipped file validates, loads into a Profile, and says what it
does not know; a broken file fails with the file, line and key; every message template
a profile declares is understood by the AT parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.core.protocols.at import ATCommander, CallerId, HangupDetected, Ring
from salvesti.hardware import MODEMS_DIR, Profile, ProfileError, available_profiles, load_profile

SHIPPED = ["quectel_ec2x", "simcom_sim7600", "v253_voice_modem"]


def test_available_profiles():
    assert available_profiles() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_profile_loads(name):
    p = load_profile(name)
    assert isinstance(p, Profile)
    assert p.name == name and p.path == MODEMS_DIR / f"{name}.yaml"
    assert p.unknown, "a profile must say what nobody verified"
    assert p.sources
    assert any("{number}" in c.cmd for c in p.dial)
    assert "+3725551234" in " ".join(c.cmd for c in p.dial_commands("+3725551234"))
    assert p.audio.sample_rate == 8000


def test_audio_facts():
    sim = load_profile("simcom_sim7600").audio
    assert (sim.transport, sim.encoding, sim.duplex, sim.bytes_per_second) == (
        "separate_port",
        "s16le",
        "full",
        16000,
    )
    assert [c.cmd for c in sim.start] == ["AT+CPCMREG=1"]
    v = load_profile("v253_voice_modem").audio
    assert (v.transport, v.encoding, v.duplex) == ("dle_voice", "u8", "half")
    assert [c.cmd for c in v.receive] == ["AT+VRX"] and [c.cmd for c in v.transmit] == ["AT+VTX"]
    q = load_profile("quectel_ec2x")
    assert "AT+QPCMV=1,0" in [c.cmd for c in q.init]


def _fill(template: str) -> str:
    values = {
        "number": "+3725551234",
        "type": "145",
        "name": "Mari",
        "duration": "000012",
        "time": "10:22AM",
        "mmdd": "1129",
        "hhmm": "0930",
        "pcm": "1",
        "validity": "0",
    }
    return template.format(**values)


@pytest.mark.parametrize("name", SHIPPED)
def test_parser_understands_every_template(name):
    p = load_profile(name)
    m = p.messages
    c = ATCommander()
    wire = "".join(f"\r\n{_fill(t)}\r\n" for t in m["ring"] + m["caller_id"])
    events = c.feed(wire.encode(), now=0.0) + c.handle_timer(5.0)
    assert Ring() in events
    cids = [e for e in events if isinstance(e, CallerId)]
    assert cids and cids[0].number == "+3725551234" and cids[0].name == "Mari"
    if m["remote_hangup"]:
        wire = "".join(f"\r\n{_fill(t)}\r\n" for t in m["remote_hangup"])
        events = c.feed(wire.encode(), now=6.0)
        assert any(isinstance(e, HangupDetected) for e in events)
    for code in m["remote_hangup_dle"]:
        assert HangupDetected(f"DLE {code}") in c.feed(b"\x10" + code.encode(), now=7.0)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _broken(tmp_path: Path, old: str, new: str) -> str:
    text = (MODEMS_DIR / "simcom_sim7600.yaml").read_text(encoding="utf-8")
    assert old in text
    path = _write(tmp_path, "simcom_sim7600", text.replace(old, new, 1))
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    return str(exc.value)


def test_bad_value_names_file_line_and_key(tmp_path):
    msg = _broken(tmp_path, "  encoding: s16le", "  encoding: s24le")
    assert msg.startswith("simcom_sim7600.yaml:")
    assert ": audio.encoding: value must be one of" in msg
    line = int(msg.split(":")[1])
    assert "encoding: s24le" in (tmp_path / "simcom_sim7600.yaml").read_text().splitlines()[line - 1]


def test_missing_key_points_at_parent(tmp_path):
    msg = _broken(tmp_path, "  duplex: full\n", "")
    assert msg.endswith("audio.duplex: required key not provided")
    assert msg.startswith("simcom_sim7600.yaml:")


def test_bad_command_in_list(tmp_path):
    msg = _broken(tmp_path, "  - AT+CLIP=1\n", "  - CLIP=1\n")
    assert "init[4].cmd: does not match regular expression" in msg


def test_unknown_key(tmp_path):
    msg = _broken(tmp_path, "kind: gsm\n", "kind: gsm\nkinds: gsm\n")
    assert "kinds: extra keys not allowed" in msg


def test_not_yaml_and_unknown_name(tmp_path):
    path = _write(tmp_path, "x", "name: [unclosed\n")
    with pytest.raises(ProfileError, match=r"^x.yaml:\d+: not valid YAML"):
        load_profile(path)
    with pytest.raises(ProfileError, match="unknown modem profile 'nokia'; known profiles: quectel_ec2x"):
        load_profile("nokia")


def test_name_must_match_file(tmp_path):
    text = (MODEMS_DIR / "quectel_ec2x.yaml").read_text(encoding="utf-8")
    with pytest.raises(ProfileError, match=r"^other.yaml:\d+: name: must match the file name 'other'"):
        load_profile(_write(tmp_path, "other", text))


def test_dial_needs_number(tmp_path):
    msg = _broken(tmp_path, '"ATD{number};"', '"ATD5551234;"')
    assert "dial: no command contains {number}" in msg
