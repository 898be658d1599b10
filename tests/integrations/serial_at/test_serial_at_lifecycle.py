"""serial_at beyond the happy path: callers who give up, withheld numbers, unplug and
replug mid-call, a device absent at start, and the config check for audio_device."""

from __future__ import annotations

import asyncio

import pytest
from serial_at_rig import Rig, tone, wait_until

from salvesti.core.bus import SOURCE_STATUS
from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError
from salvesti.core.plugins import PluginManager
from salvesti.testing.modem_sim import ModemSimulator


@pytest.fixture
def sim_factory(tmp_path):
    sims: list[ModemSimulator] = []

    def make(profile: str, **kw) -> ModemSimulator:
        sim = ModemSimulator(profile, tmp_path / "ttyMODEM", ring_period=0.15, **kw).start()
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.stop()


async def test_caller_gives_up_before_answer_gsm(tmp_path, sim_factory):
    sim = sim_factory("simcom_sim7600")
    async with Rig(tmp_path, sim, "    answer_after_rings: 6\n") as rig:
        sim.incoming_call("+3725551234", rings=2)
        await wait_until(lambda: rig.ended, what="call_ended")
        call = rig.ended[0]
        assert call["disposition"] == "cancelled"
        assert call["remote_number"] == "+3725551234"
        assert call["answered_at"] is None and call["recording"] is None
        assert call["meta"]["hangup"] == "MISSED_CALL"
        assert sim.state == "idle"


async def test_rings_stop_on_an_analogue_line(tmp_path, sim_factory):
    """V.253 modems do not say that the caller gave up: the rings just stop."""
    sim = sim_factory("v253_voice_modem")
    async with Rig(tmp_path, sim, "    answer_after_rings: 6\n    ring_timeout: 1\n") as rig:
        sim.incoming_call("5551234", "JOHN DOE", rings=2)
        await wait_until(lambda: rig.ended, what="call_ended")
        call = rig.ended[0]
        assert call["disposition"] == "cancelled" and call["meta"]["hangup"] == "rings stopped"
        assert call["remote_number"] == "+3725551234"
        assert call["meta"]["caller_name"] == "JOHN DOE"


@pytest.mark.parametrize("profile", ["quectel_ec2x", "v253_voice_modem"])
async def test_withheld_number(tmp_path, sim_factory, profile):
    sim = sim_factory(profile)
    async with Rig(tmp_path, sim, "    answer_after_rings: 2\n") as rig:
        sim.incoming_call(None)
        await wait_until(lambda: sim.state == "active", what="answer")
        sim.remote_hangup()
        await wait_until(lambda: rig.ended, what="call_ended")
        call = rig.ended[0]
        assert call["remote_number"] is None
        assert call["meta"]["caller_id"] == "withheld"
        assert call["disposition"] == "answered"


async def test_unplug_mid_call_keeps_the_recording_and_replug_reconnects(tmp_path, sim_factory):
    sim = sim_factory("simcom_sim7600")
    sim.set_far_audio(tone(5.0, 440.0))
    async with Rig(tmp_path, sim, "    answer_after_rings: 1\n") as rig:
        states: list[str] = []
        rig.hub.bus.subscribe(SOURCE_STATUS, lambda e: states.append(e.data["state"]))
        sim.incoming_call("+3725551234")
        await wait_until(lambda: sim.state == "active", what="answer")
        await asyncio.sleep(1.0)
        sim.unplug()
        await wait_until(lambda: rig.ended, what="call_ended after unplug")
        call = rig.ended[0]
        assert call["disposition"] == "answered"
        assert call["meta"]["hangup"] == "device lost"
        assert call["recording"]["status"] == "saved"
        assert call["recording"]["duration_s"] > 0.8
        assert rig.source.active_calls() == 0
        sim.replug()
        await wait_until(lambda: "loaded" in states, seconds=8, what="reconnect")
        assert states == ["disconnected", "loaded"]
        assert rig.source.connected and not sim.echo  # the init commands ran again
        sim.incoming_call("+3725559999")
        await wait_until(lambda: sim.state == "active", what="answer after replug")
        sim.remote_hangup()
        await wait_until(lambda: len(rig.ended) == 2, what="second call_ended")
        assert rig.ended[1]["remote_number"] == "+3725559999"
        assert rig.ended[1]["disposition"] == "answered"


async def test_device_absent_at_start_is_retried(tmp_path):
    sim = ModemSimulator("quectel_ec2x", tmp_path / "ttyMODEM")
    sim.stop()  # never started, ports closed: the path does not exist
    async with Rig(tmp_path, sim) as rig:
        assert rig.source_state() == "setup_retry"
        assert "cannot open" in next(s["reason"] for s in rig.hub.status() if s["kind"] == "source")


def test_audio_device_required_for_separate_port_profiles(tmp_path):
    (tmp_path / "config.yaml").write_text(
        "salvesti: {purpose: test}\n"
        "sources:\n"
        "  - platform: serial_at\n"
        "    id: gsm\n"
        "    device: /dev/ttyUSB2\n"
        "    profile: simcom_sim7600\n"
        '    line: "+37255500000"\n'
    )
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "config.yaml", plugins)
    assert exc.value.errors == [
        "config.yaml:3: sources[0].audio_device: required with profile 'simcom_sim7600', whose "
        "audio has its own serial port: USB interface 4 (Linux: the 5th ttyUSB of the module, "
        "/dev/serial/by-id/...-if04-port0)"
    ]


def _config_errors(tmp_path, extra: str) -> list[str]:
    (tmp_path / "config.yaml").write_text(
        "salvesti: {purpose: test}\n"
        "sources:\n"
        "  - platform: serial_at\n"
        "    id: line1\n"
        "    device: /dev/ttyACM0\n"
        "    profile: v253_voice_modem\n"
        '    line: "6000000"\n' + extra
    )
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    try:
        load_config(tmp_path / "config.yaml", plugins)
    except ConfigError as err:
        return err.errors
    return []


def test_a_line_needs_a_notice_or_a_reason(tmp_path):
    assert _config_errors(tmp_path, "") == [
        "config.yaml:7: sources[0].line: line 6000000 has no recording notice for inbound calls: "
        'add a notice (notices: - platform: audio_file ...) or say why in no_notice: "reason"'
    ]
    assert _config_errors(tmp_path, '    no_notice: "the carrier announces it"\n') == []
    notice_for_other_line = (
        "notices:\n  - {platform: audio_file, id: n, file: n.wav, lines: ['+3726000001']}\n"
    )
    assert len(_config_errors(tmp_path, notice_for_other_line)) == 1
    notice_for_this_line = (
        "notices:\n  - {platform: audio_file, id: n, file: n.wav, lines: ['+3726000000']}\n"
    )
    assert _config_errors(tmp_path, notice_for_this_line) == []


async def test_waived_notice_is_recorded_on_the_call(tmp_path, sim_factory):
    sim = sim_factory("quectel_ec2x")
    rig = Rig(tmp_path, sim, '    answer_after_rings: 1\n    no_notice: "carrier announcement"\n')
    rig.hub.config["notices"] = []
    async with rig:
        sim.incoming_call("+3725551234")
        await wait_until(lambda: sim.state == "active", what="answer")
        sim.remote_hangup()
        await wait_until(lambda: rig.ended, what="call_ended")
    notice = rig.ended[0]["notice"]
    assert notice["played"] is False and notice["waived_reason"] == "carrier announcement"
