"""The shipped ``modem_simulator`` fixture, used the way a plugin author would."""

from __future__ import annotations

from sim_client import SerialAT

from salvesti.core.protocols.at import CallerId

pytest_plugins = ["salvesti.testing.modem_fixtures"]


def test_fixture_gives_a_started_simulator(modem_simulator, tmp_path):
    sim = modem_simulator("quectel_ec2x", ring_period=0.1)
    assert sim.path == str(tmp_path / "ttyMODEM") and sim.audio_path == str(tmp_path / "ttyMODEM-audio")
    at = SerialAT(sim.path)
    try:
        assert at.cmd("AT+CLIP=1").ok
        sim.incoming_call("+3725551234")
        at.wait(lambda e: isinstance(e, CallerId))
    finally:
        at.close()
