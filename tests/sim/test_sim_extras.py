"""Simulator details: its log replays through the parser, it works with a caller's own pty
and from asyncio, Quectel audio flows after AT+QPCMV, and it leaves no thread behind."""

from __future__ import annotations

import asyncio
import codecs
import os
import threading
import time
import tty

from sim_client import SerialAT

from salvesti.core.protocols.at import ATCommander, CallerId, CommandDone, HangupDetected, Ring
from salvesti.testing.modem_sim import ModemSimulator


def _replay_log(text: str) -> list:
    """Feed the ``<`` lines of a simulator log to a fresh commander (``>`` lines send)."""
    c = ATCommander()
    events = []
    for line in text.splitlines():
        op, _, rest = line.partition(" ")
        if op == ">":
            c.send(rest, 5.0, 0.0)
            c.data_to_send()
        elif op == "<":
            events += c.feed(codecs.escape_decode(rest.encode("latin-1"))[0], 0.0)
    return events


def test_log_is_golden_format_and_replays_to_the_same_events(tmp_path):
    with ModemSimulator("simcom_sim7600", tmp_path / "tty", ring_period=0.05) as sim:
        at = SerialAT(sim.path)
        try:
            at.cmd("AT+CLIP=1")
            sim.incoming_call("+3725551234", rings=2)
            at.wait(lambda e: e == HangupDetected("MISSED_CALL"))
        finally:
            at.close()
        text = sim.format_log()
    assert text.startswith("> AT+CLIP=1\n< AT+CLIP=1\\r\n")
    assert _replay_log(text) == at.events
    assert Ring() in at.events and CallerId("+3725551234", None, "valid") in at.events


def test_callers_own_pty_master(tmp_path):
    master, slave = os.openpty()
    tty.setraw(slave)
    sim = ModemSimulator("quectel_ec2x", master).start()
    at = SerialAT(os.ttyname(slave))
    try:
        assert at.cmd("ATI").lines == ("Quectel", "EG25", "Revision: EG25GGBR07A08M2G")
    finally:
        at.close()
        sim.stop()
        os.close(slave)


def test_quectel_audio_flows_on_the_nmea_port_after_qpcmv(tmp_path):
    sim = ModemSimulator("quectel_ec2x", tmp_path / "ttyUSB2", audio_path=tmp_path / "ttyUSB1").start()
    at = SerialAT(sim.path)
    audio = None
    try:
        assert sim.audio_path == str(tmp_path / "ttyUSB1")
        for c in sim.profile.init:
            assert at.cmd(c.cmd).ok
        audio = open(sim.audio_path, "rb", buffering=0)
        os.set_blocking(audio.fileno(), False)
        sim.incoming_call("+3725551234")
        at.wait(lambda e: isinstance(e, CallerId))
        assert at.cmd("ATA").ok
        got = b""
        deadline = time.monotonic() + 2
        while len(got) < 3200 and time.monotonic() < deadline:
            time.sleep(0.02)
            got += audio.read(65536) or b""
        assert len(got) >= 3200 and set(got) == {0}  # silence: no far audio was set
    finally:
        if audio is not None:
            audio.close()
        at.close()
        sim.stop()


async def test_usable_from_asyncio(tmp_path):
    """The host side as an asyncio program would do it: a non-blocking fd + add_reader."""
    loop = asyncio.get_running_loop()
    with ModemSimulator("v253_voice_modem", tmp_path / "ttyACM0", ring_period=0.1) as sim:
        fd = os.open(sim.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        cmdr = ATCommander()
        events: list = []
        got_cid = asyncio.Event()

        def readable() -> None:
            events.extend(cmdr.feed(os.read(fd, 4096), loop.time()))
            if any(isinstance(e, CallerId) for e in events):
                got_cid.set()

        loop.add_reader(fd, readable)
        try:
            cmdr.send("AT+VCID=1", 2.0, loop.time())
            os.write(fd, cmdr.data_to_send())
            sim.incoming_call("5551234", "JOHN DOE")
            await asyncio.wait_for(got_cid.wait(), 3)
        finally:
            loop.remove_reader(fd)
            os.close(fd)
    assert CommandDone("AT+VCID=1", True, (), "OK") in events
    cid = next(e for e in events if isinstance(e, CallerId))
    assert (cid.number, cid.name, [k for k, _ in cid.extra]) == ("5551234", "JOHN DOE", ["DATE", "TIME"])


def test_stop_leaves_no_thread(tmp_path):
    before = set(threading.enumerate())
    sim = ModemSimulator("simcom_sim7600", tmp_path / "tty").start()
    sim.stop()
    assert set(threading.enumerate()) <= before
    assert not (tmp_path / "tty").exists() and not (tmp_path / "tty-audio").exists()
