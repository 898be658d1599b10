"""Benchmark of the RTP path: N concurrent recorded G.711 calls through MediaRelay/CallMedia.

    .venv/bin/python bench/rtp_path.py                 # 200 and 1000 calls, 10 s each
    .venv/bin/python bench/rtp_path.py --calls 200 --seconds 5

Every call has two far ends (the outside party and the office phone), each an ordinary UDP
socket bound in a separate load-generator process (never raw sockets: see
shared/research/benchmarking.md) that sends 50 packets/s of 160-byte PCMU and counts what
comes back by payload.  So each call moves 100 packets/s into the system under test and
100 out of it, and Salvesti decodes and records both directions to stereo WAV files.

Three modes run interleaved under the same load: ``bare`` is the reference, a bare asyncio
UDP relay (one ``DatagramProtocol`` per socket, ``sendto`` to the other far end, no parsing,
decoding or recording); ``relay-only`` is Salvesti's MediaRelay/CallMedia without a
recording; ``salvesti`` relays and records.  The ratio relay+record / bare is printed.  CPU
is the process's user+system time (all threads) from ``resource.getrusage`` over the sending
window.  With two or more cores the system under test is pinned to core 1 and the generator
to core 0.  Compare figures only within one run: on a shared VM they move by tens of percent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PTIME = 0.02
#: bare asyncio relay (reference), Salvesti relaying only, Salvesti relaying and recording
#: in Python, and relaying and recording through the native core (media_core: native).
MODES = ("bare", "relay-only", "salvesti", "native")
PAYLOAD = 160
_COUNTER = struct.Struct("!II")  # (far end index, packet counter) at the start of the payload


# -- load generator (child process) ----------------------------------------------------------------
def generator(n_calls: int, seconds: float) -> None:
    """Bind 2N sockets, print their ports, wait for the targets, send and count."""
    import selectors

    socks = []
    for _ in range(2 * n_calls):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    print(json.dumps([s.getsockname()[1] for s in socks]), flush=True)
    targets = json.loads(sys.stdin.readline())
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
    header = [struct.pack("!BBHII", 0x80, 0, 0, 0, 0x1000 + i) for i in range(len(socks))]
    filler = bytes(PAYLOAD - _COUNTER.size)
    received = [0] * len(socks)
    sent = 0
    start = time.monotonic()
    tick = 0
    late_ticks = 0
    while True:
        due = start + tick * PTIME
        now = time.monotonic()
        if due > start + seconds:
            break
        while due > now:
            _drain(sel, received, due - now)
            now = time.monotonic()
        if now - due > PTIME:
            late_ticks += 1
        seq = tick & 0xFFFF
        ts = (tick * 160) & 0xFFFFFFFF
        for i, s in enumerate(socks):
            pkt = (
                header[i][:2] + struct.pack("!HI", seq, ts) + header[i][8:] + _COUNTER.pack(i, tick) + filler
            )
            try:
                s.sendto(pkt, ("127.0.0.1", targets[i]))
                sent += 1
            except BlockingIOError:
                pass
        tick += 1
    end = time.monotonic()
    drain_until = end + 0.5
    while time.monotonic() < drain_until:
        _drain(sel, received, drain_until - time.monotonic())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "sent": sent,
                "received": sum(received),
                "seconds": end - start,
                "late_ticks": late_ticks,
                "cpu": usage.ru_utime + usage.ru_stime,
            }
        ),
        flush=True,
    )


def _drain(sel: Any, received: list[int], timeout: float) -> None:
    """Count packets whose payload says they come from this socket's partner (same call)."""
    unpack = _COUNTER.unpack_from
    for key, _ in sel.select(max(timeout, 0)):
        s = key.fileobj
        partner = key.data ^ 1
        try:
            while True:
                data = s.recv(2048)
                if len(data) >= 12 + _COUNTER.size and unpack(data, 12)[0] == partner:
                    received[key.data] += 1
        except BlockingIOError:
            pass


# -- system under test ---------------------------------------------------------------------------------
class _Bare(asyncio.DatagramProtocol):
    """The reference: forward every datagram to the other far end, nothing else."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.peer: tuple[str, int] | None = None
        self.other: _Bare | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        other = self.other
        if other is not None and other.peer is not None:
            other.transport.sendto(data, other.peer)


async def _setup_bare(n: int) -> tuple[list[int], Any, Any]:
    loop = asyncio.get_running_loop()
    protos, ports = [], []
    for _ in range(2 * n):
        transport, proto = await loop.create_datagram_endpoint(_Bare, local_addr=("127.0.0.1", 0))
        protos.append(proto)
        ports.append(transport.get_extra_info("sockname")[1])
    for i in range(0, 2 * n, 2):
        protos[i].other, protos[i + 1].other = protos[i + 1], protos[i]

    def set_peers(far_ports: list[int]) -> None:
        for proto, port in zip(protos, far_ports, strict=True):
            proto.peer = ("127.0.0.1", port)

    async def teardown() -> None:
        for proto in protos:
            proto.transport.close()

    return ports, set_peers, teardown


async def _setup_salvesti(
    n: int, folder: Path, record: bool = True, core: str = "python"
) -> tuple[list[int], Any, Any]:
    from datetime import datetime

    from salvesti.core.call import Call, Direction
    from salvesti.core.hub import Hub
    from salvesti.core.plugins import PluginManager
    from salvesti.core.protocols.sdp import Codec
    from salvesti.core.recording import CallRecording
    from salvesti.integrations.sip.media import CallMedia, MediaRelay
    from salvesti.integrations.sip.native import load_core
    from salvesti.plugins.sink_local import LocalSink

    hub = Hub({}, config_path=folder / "bench.yaml", plugins=PluginManager())
    sink = LocalSink(hub, "bench", folder / "recordings")
    await sink.async_setup()
    relay = MediaRelay("127.0.0.1", 30000, 30000 + 4 * n + 100, native=load_core(core))
    await relay.start()
    medias, recordings, ports = [], [], []
    for i in range(n):
        outside = await relay.allocate()
        inside = await relay.allocate()
        call = Call(
            id=f"bench-{i:05d}",
            source="bench",
            direction=Direction.INBOUND,
            line=None,
            remote_number=None,
            started_at=datetime.now(hub.tz),
        )
        rec = CallRecording(hub, call, sink) if record else None
        media = CallMedia(outside, rec)
        media.attach_inside(inside)
        medias.append(media)
        recordings.append(rec)
        ports += [outside.local_port, inside.local_port]

    def set_peers(far_ports: list[int]) -> None:
        pcmu = (0, Codec("PCMU", 8000))
        now = time.monotonic()
        for k, media in enumerate(medias):
            media.outside.set_remote(("127.0.0.1", far_ports[2 * k]), pcmu, 101)
            media.inside.set_remote(("127.0.0.1", far_ports[2 * k + 1]), pcmu, 101)
            if recordings[k] is not None:
                recordings[k].start(now)
            media.bridge()

    async def teardown() -> None:
        for media in medias:
            await media.close()
        infos = await asyncio.gather(*(rec.close() for rec in recordings if rec is not None))
        durations = [i.duration_s for i in infos if i is not None and i.duration_s is not None]
        if len(durations) < len(infos):
            print(f"    recordings: {len(infos) - len(durations)} FAILED (see the log above)")
        if durations:
            print(
                f"    recordings: {len(durations)} saved, "
                f"duration {min(durations):.2f}-{max(durations):.2f} s",
                flush=True,
            )
        await relay.stop()

    return ports, set_peers, teardown


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_once(mode: str, n: int, seconds: float, folder: Path) -> dict[str, Any]:
    if mode == "bare":
        ports, set_peers, teardown = await _setup_bare(n)
    else:
        ports, set_peers, teardown = await _setup_salvesti(
            n, folder, record=mode != "relay-only", core="native" if mode == "native" else "python"
        )
    cmd = [sys.executable, __file__, "--generator", str(n), "--seconds", str(seconds)]
    if (os.cpu_count() or 1) >= 2:
        cmd = ["taskset", "-c", "0", *cmd]
    proc = await asyncio.create_subprocess_exec(*cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    far_ports = json.loads(await proc.stdout.readline())
    set_peers(far_ports)
    cpu0, t0 = _cpu(), time.monotonic()
    proc.stdin.write((json.dumps(ports) + "\n").encode())
    await proc.stdin.drain()
    result = json.loads(await proc.stdout.readline())
    cpu1, t1 = _cpu(), time.monotonic()
    await proc.wait()
    await teardown()
    relayed = result["received"]
    call_minutes = relayed / (2 * 50 * 60)  # a call relays 100 packets/s (50 each way)
    return {
        "mode": mode,
        "calls": n,
        "sent": result["sent"],
        "relayed": relayed,
        "lost": result["sent"] - relayed,
        "loss_pct": 100.0 * (result["sent"] - relayed) / max(result["sent"], 1),
        "cpu_s": cpu1 - cpu0,
        "wall_s": t1 - t0,
        "cpu_per_call_minute": (cpu1 - cpu0) / call_minutes if call_minutes else float("nan"),
        "us_per_packet": 1e6 * (cpu1 - cpu0) / max(relayed, 1),
        "generator_cpu_pct": 100.0 * result["cpu"] / max(t1 - t0, 1e-9),
        "generator_late_ticks": result["late_ticks"],
    }


def _print_row(row: dict[str, Any]) -> None:
    print(
        f"  {row['mode']:10s} N={row['calls']:5d}  sent {row['sent']:8d}  relayed {row['relayed']:8d}  "
        f"lost {row['lost']:6d} ({row['loss_pct']:.2f} %)  "
        f"CPU {row['cpu_s']:6.2f} s = {row['cpu_per_call_minute']:.3f} s per call-minute, "
        f"{row['us_per_packet']:.1f} us per relayed packet  "
        f"(generator {row['generator_cpu_pct']:.0f} % CPU, late ticks {row['generator_late_ticks']})",
        flush=True,
    )


async def main(calls: list[int], seconds: float, repeat: int) -> None:
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {1})
    loop_name = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(
        f"RTP path benchmark ({loop_name} loop): {seconds:.0f} s per run, {repeat} run(s) per mode, "
        "PCMU 20 ms, 50 packets/s per direction, modes interleaved"
    )
    folder = Path(tempfile.mkdtemp(prefix="rtp-path-bench-"))
    try:
        for n in calls:
            rows: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
            for _ in range(repeat):
                for mode in MODES:
                    row = await run_once(mode, n, seconds, folder)
                    rows[mode].append(row)
                    _print_row(row)
                    shutil.rmtree(folder / "recordings", ignore_errors=True)
            med = {mode: statistics.median(r["cpu_per_call_minute"] for r in rs) for mode, rs in rows.items()}
            loss = {mode: statistics.median(r["loss_pct"] for r in rs) for mode, rs in rows.items()}
            print(f"  N={n} medians:", flush=True)
            for mode in MODES:
                print(f"    {mode:10s} {med[mode]:.3f} s per call-minute, loss {loss[mode]:.2f} %")
            print(
                f"    relay+record / bare relay = {med['salvesti'] / med['bare']:.2f}, "
                f"relay-only / bare relay = {med['relay-only'] / med['bare']:.2f}, "
                f"native relay+record / bare relay = {med['native'] / med['bare']:.2f}",
                flush=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode (medians are printed)")
    parser.add_argument("--uvloop", action="store_true", help="run the system under test on uvloop")
    parser.add_argument("--generator", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generator:
        generator(args.generator, args.seconds)
    elif args.uvloop:
        import uvloop

        uvloop.run(main(args.calls, args.seconds, args.repeat))
    else:
        asyncio.run(main(args.calls, args.seconds, args.repeat))
