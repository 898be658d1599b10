"""Pytest fixtures around the modem simulator, for plugin authors and our own tests.

Enable with ``pytest_plugins = ["salvesti.testing.modem_fixtures"]`` in a conftest.py::

    def test_my_source(modem_simulator):
        sim = modem_simulator("simcom_sim7600", ring_period=0.2)
        port = serial.Serial(sim.path, 115200)         # and sim.audio_path for audio
        sim.incoming_call("+3725551234")

Every simulator the factory made is stopped at teardown, and the test fails if one left
its thread running, so a test cannot leak work into the next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from salvesti.testing.modem_sim import ModemSimulator


@pytest.fixture
def modem_simulator(tmp_path: Path) -> Iterator[Callable[..., ModemSimulator]]:
    """A factory: ``modem_simulator(profile, name="ttyMODEM", **options)`` returns a
    started :class:`ModemSimulator` whose slave is linked at ``tmp_path / name``."""
    made: list[ModemSimulator] = []

    def make(profile: str, name: str = "ttyMODEM", **options: Any) -> ModemSimulator:
        sim = ModemSimulator(profile, tmp_path / name, **options).start()
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.stop()
    alive = [t.name for t in threading.enumerate() if t.name.startswith("modem-sim-")]
    assert not alive, f"modem simulator threads still running: {alive}"
