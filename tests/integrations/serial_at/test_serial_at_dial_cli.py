"""``salvesti dial`` against a real ``salvesti run`` process driving the modem simulator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from serial_at_rig import tone, wait_until, write_config

from salvesti.core import control
from salvesti.testing.modem_sim import ModemSimulator

CLI = [sys.executable, "-m", "salvesti"]


async def _cli(*args: str, limit: float = 15) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), limit)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_salvesti_dial_talks_to_the_running_process(tmp_path) -> None:
    sim = ModemSimulator("simcom_sim7600", tmp_path / "ttyGSM", dial_delay=0.3)
    sim.set_far_audio(tone(4.0, 440.0))
    sim.start()
    config = write_config(tmp_path, sim)
    socket_path = control.socket_path(tmp_path / "data")
    code, _, err = await _cli("dial", "5551234", "--source", "gsm", "-c", str(config))
    assert code == 1 and "is 'salvesti run" in err, "no running salvesti: a clear error"
    run = await asyncio.create_subprocess_exec(
        "timeout", "-k", "2", "30", *CLI, "run", "-c", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        await wait_until(socket_path.exists, 10, "control socket")
        dial = asyncio.ensure_future(_cli("dial", "5551234", "--source", "gsm", "--wait", "-c", str(config)))
        await wait_until(lambda: sim.state == "active", 5, "the callee answers")
        await asyncio.sleep(1.0)
        sim.remote_hangup()
        code, out, err = await dial
        assert code == 0, err
        call = json.loads(out)
        assert call["direction"] == "outbound" and call["disposition"] == "answered"
        assert call["remote_number"] == "+3725551234" and call["source"] == "gsm"
        assert call["notice"]["played"] and call["recording"]["path"]
        code, out, err = await _cli("dial", "5551234", "--source", "nope", "-c", str(config))
        assert code == 1 and "no source 'nope'" in err
    finally:
        if run.returncode is None:
            os.killpg(run.pid, signal.SIGTERM)
        await asyncio.wait_for(run.wait(), 10)
        sim.stop()
    assert not socket_path.exists()
