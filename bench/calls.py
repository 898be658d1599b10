"""Benchmark: N concurrent recorded outbound calls through ``salvesti run``.

    .venv/bin/python bench/calls.py --calls 50 --seconds 20
    .venv/bin/python bench/calls.py --calls 200 --seconds 20 --rate 20 --json out.json

What it does, all on 127.0.0.1:
1. Starts Salvesti with a CONTRACT-shaped config (harness in tests/e2e/harness): one
   sip_trunk source whose registrar is the bench's own carrier, N extensions, a local WAV
   sink and the audio_file notice; pinned to the last core with ``taskset`` when the
   machine has two or more cores (the load generator takes core 0).
2. N phones register (digest), then place calls at ``--rate`` per second to distinct
   numbers; the carrier answers each; both far ends send 50 PCMU packets/s from ordinary
   bound UDP sockets (bench/rtpgen.py) for ``--seconds`` after the answer; the phone hangs up.
3. Measures Salvesti's CPU (utime+stime of the process and its threads, plus waited-for
   children, from /proc/<pid>/stat) from the first INVITE until every recording is
   finalised, its peak RSS (VmHWM), loss by payload at both far ends, and checks the
   recordings: one per call, length = answered time within 100 ms.

With ``--reference kamailio`` the same run then carries the same load (fresh far ends,
same phones, passwords, numbers, rate and talk time) through Kamailio + rtpengine
(bench/reference.py: userspace forwarding, one pcap per call), pinned to the same core,
and prints both side by side.  CPU per call-minute there uses one denominator for both
systems: the summed time from the carrier's answer to the phone's hang-up at the far ends.

Bounded: every wait has a deadline and the whole run has ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from callstats import machine, proc_cpu_s, proc_hwm_mb, summarise, thread_cpu_s  # noqa: E402
from harness.audio import make_audio_set  # noqa: E402
from harness.ports import PORTS  # noqa: E402
from harness.salvesti import Salvesti, calls_json  # noqa: E402
from reference import KamailioRtpengine, missing_binaries, pcap_packets  # noqa: E402
from rtpgen import Stream, Ticker  # noqa: E402
from sipmsg import Msg  # noqa: E402
from sipua import Carrier, Phone  # noqa: E402


def g711_filler(path: Path) -> bytes:
    """µ-law bytes of the speech fixture with 0x7F (µ-law −0) removed, for packet filler."""
    data = path.read_bytes()
    idx = data.index(b"data")
    return data[idx + 8 :].replace(b"\x7f", b"\x7e")


class Load:
    """The far ends of N calls: phones (UAC + RTP up) and the carrier (UAS + RTP down)."""

    def __init__(self, n: int, filler: bytes) -> None:
        self.n = n
        self.filler = filler
        self.ticker = Ticker()
        self.carrier = Carrier()
        self.up: list[Stream] = []
        self.down: list[Stream] = []
        self.index_of_call: dict[str, int] = {}
        self.t_carrier_answered: dict[int, float] = {}
        self.carrier.allocate_rtp = self._allocate
        self.carrier.on_ack = self._answered
        self.carrier.on_bye = self._ended

    async def open(self) -> None:
        await self.carrier.open()
        up_ports, down_ports = PORTS.block(2 * self.n)[0], PORTS.block(2 * self.n)[0]
        for i in range(self.n):
            self.up.append(await self.ticker.open(Stream(1 + i, 1001 + i, self.filler), up_ports + 2 * i))
            self.down.append(await self.ticker.open(Stream(1001 + i, 1 + i, self.filler), down_ports + 2 * i))

    @staticmethod
    def number(i: int) -> str:
        return f"+3725{i:07d}"

    def _allocate(self, call_id: str, msg: Msg) -> int:
        """The carrier learns which call an INVITE is from the dialled number's last digits."""
        user = msg.first.split()[1].split("@")[0]
        digits = "".join(ch for ch in user if ch.isdigit())
        i = int(digits[-7:]) if digits else -1
        if not 0 <= i < self.n:
            return 9  # discard port: a call we did not place
        self.index_of_call[call_id] = i
        return self.down[i].port

    def _answered(self, call_id: str, media: tuple[str, int] | None) -> None:
        i = self.index_of_call.get(call_id)
        if i is not None and media is not None:
            self.down[i].remote, self.down[i].sending = media, True
            self.t_carrier_answered.setdefault(i, time.monotonic())

    def _ended(self, call_id: str) -> None:
        i = self.index_of_call.get(call_id)
        if i is not None:
            self.down[i].sending = False

    async def start(self, salv: Salvesti) -> None:
        """Start Salvesti and wait (bounded) until its trunk has registered with our carrier."""
        await asyncio.to_thread(salv.start, ready_timeout=30)
        for _ in range(100):
            if self.carrier.registered:
                break
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        await self.ticker.stop()
        self.carrier.close()


async def run_calls(
    load: Load,
    server: tuple[str, int],
    args: argparse.Namespace,
    *,
    pid: int | None,
    list_calls: Any,
    reference: KamailioRtpengine | None = None,
) -> dict[str, Any]:
    """Place every call, hold it, hang up; measure the system's CPU until recordings are final.

    The system under test is Salvesti (``pid``, recordings via ``list_calls``), or with
    ``reference`` Kamailio + rtpengine (both process groups, recordings = rtpengine's pcaps).
    """
    n, secs = load.n, args.seconds
    phones = [Phone(f"{2000 + i}", f"bench-pw-{2000 + i}", server) for i in range(n)]
    for p in phones:
        await p.open()
    if pid is not None or reference is not None:
        await asyncio.gather(*(p.register() for p in phones))

    def cpu_now() -> dict[str, float]:
        if reference is not None:
            return reference.cpu_s()
        return {"salvesti": proc_cpu_s(pid)} if pid else {}

    cpu0, t0, own0 = cpu_now(), time.monotonic(), os.times()
    threads0 = thread_cpu_s(pid) if pid else {}
    load.ticker.start(n / args.rate + secs + 60)
    results: list[dict[str, Any]] = [{} for _ in range(n)]

    async def one(i: int) -> None:
        await asyncio.sleep(i / args.rate)
        up = load.up[i]
        t_invite = time.monotonic()
        try:
            dialog = await phones[i].invite(load.number(i), up.port)
            answered = time.monotonic()
            results[i]["setup_s"] = answered - t_invite
            up.remote, up.sending = dialog.remote_media, True
            await asyncio.sleep(secs)
            up.sending = False
            results[i].update(ok=True, held=time.monotonic() - answered, answered=answered)
            results[i]["bye"] = await dialog.bye()
        except Exception as exc:  # a failed call is a result, not a crash
            results[i].update(ok=False, error=repr(exc))
            up.sending = False

    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), n / args.rate + secs + 60)
    t_calls = time.monotonic()
    await asyncio.sleep(0.5)  # let the last packets land

    calls: list[dict[str, Any]] = []
    if list_calls is not None:  # until every call is listed as ended with a finalised recording
        deadline = time.monotonic() + args.finalise_timeout
        want = sum(1 for r in results if r.get("ok"))
        while time.monotonic() < deadline:
            calls = await asyncio.to_thread(list_calls)
            done = [c for c in calls if c.get("ended_at") and (c.get("recording") or {}).get("sha256")]
            if len(done) >= want:
                break
            await asyncio.sleep(1.0)
    pcaps: dict[str, int] = {}
    if reference is not None:  # until rtpengine has a pcap per call and stopped writing them
        deadline = time.monotonic() + args.finalise_timeout
        want = sum(1 for r in results if r.get("ok"))
        last: tuple[int, int, int] | None = None
        while time.monotonic() < deadline:
            files = reference.pcaps()
            state = (len(files), sum(f.stat().st_size for f in files), len(reference.metadata()))
            if state[0] >= want and state == last:
                break
            last = state
            await asyncio.sleep(1.0)
        pcaps = {f.name: await asyncio.to_thread(pcap_packets, f) for f in reference.pcaps()}
    cpu1, t1, own1 = cpu_now(), time.monotonic(), os.times()
    threads1 = thread_cpu_s(pid) if pid else {}
    for p in phones:
        p.close()
    cpu_parts = {k: cpu1[k] - cpu0.get(k, 0.0) for k in cpu1}
    # The same denominator for every system: media time per call as the far ends saw it, from
    # the carrier's answer (its ACK) to the phone's hang-up.
    media_s = sum(
        r["answered"] + r["held"] - load.t_carrier_answered.get(i, r["answered"])
        for i, r in enumerate(results)
        if r.get("ok")
    )
    return {
        "cpu_parts": cpu_parts,
        "cpu_by_thread": {k: round(v - threads0.get(k, 0.0), 2) for k, v in threads1.items()},
        "media_minutes": media_s / 60,
        "pcaps": pcaps,
        "carrier_answered": load.t_carrier_answered,
        "results": results,
        "up": load.up,
        "down": load.down,
        "calls": calls,
        "cpu_s": sum(cpu_parts.values()),
        "wall_s": t1 - t0,
        "calls_wall_s": t_calls - t0,
        "hwm_mb": (sum(reference.rss_mb().values()) if reference else proc_hwm_mb(pid) if pid else 0.0),
        "late_ticks": load.ticker.late_ticks,
        "gen_cpu_s": (own1.user + own1.system) - (own0.user + own0.system),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0, help="talk time per call after the answer")
    ap.add_argument("--rate", type=float, default=20.0, help="new calls per second")
    ap.add_argument("--timeout", type=float, default=0, help="whole-run bound (default: derived)")
    ap.add_argument("--finalise-timeout", type=float, default=60.0)
    ap.add_argument("--no-pin", action="store_true", help="do not pin Salvesti/generator to cores")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument(
        "--direct", action="store_true", help="self-test: phones call the carrier without Salvesti"
    )
    ap.add_argument(
        "--analysis-backlog",
        type=int,
        default=0,
        metavar="N",
        help="turn analysis on (tiny.en transcripts) with N 60 s calls already queued, so the worker "
        "processes (children of Salvesti, on its core, at nice 10) transcribe during the load",
    )
    ap.add_argument(
        "--reference",
        choices=["kamailio"],
        help="after Salvesti, run the same load through Kamailio + rtpengine (userspace, pcap "
        "recording) pinned to the same core, and print both side by side",
    )
    ap.add_argument("--json", type=Path, help="also write the summary here (-N suffix per sweep size)")
    ap.add_argument("--sweep", help="comma-separated call counts, e.g. 50,100,200: stop at the first unclean")
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    pin = bool(not args.no_pin and cores >= 2 and shutil.which("taskset"))
    if pin:
        os.sched_setaffinity(0, {0})
    if args.reference and args.direct:
        ap.error("--reference compares Salvesti with Kamailio + rtpengine; drop --direct")
    if args.reference and (problem := missing_binaries()):
        ap.error(problem)
    sizes = [int(x) for x in args.sweep.split(",")] if args.sweep else [args.calls]
    if any(not 1 <= n <= 2000 for n in sizes):
        ap.error("call counts must be 1..2000")
    rc = 0
    for n in sizes:
        args.calls = n
        summary = run_once(args, pin=pin, cores=cores)
        clean = (
            summary["failed"] == 0
            and summary["rtp_lost_phone_to_carrier"] == 0
            and summary["rtp_lost_carrier_to_phone"] == 0
            and (args.direct or summary["recordings"] == summary["completed"])
            and summary.get("recordings_length_off", 0) == 0
        )
        summary["clean"] = clean
        # Lossless is not enough for a phone call: callers give up on a slow answer, and the
        # callee hears dead air between the notice and the agent.
        setup, gap = summary.get("setup_s") or {}, summary.get("notice_end_to_agent_audio_at_carrier_s") or {}
        summary["responsive"] = bool(clean and setup.get("p95", 99) <= 1.0 and gap.get("p95", 99) <= 0.5)
        ref = summary.get("reference")
        for part in [summary, ref] if ref else [summary]:
            width = max(len(k) for k in part)
            for key, value in part.items():
                if key != "reference":
                    print(f"{key:<{width}}  {json.dumps(value, ensure_ascii=False)}")
            print(flush=True)
        if ref:
            completed = summary["completed"] or 1
            summary["recordings_per_call"] = round(summary["recordings"] / completed, 3)
            ref["recordings_per_call"] = round(ref["recordings"] / (ref["completed"] or 1), 3)
            if summary.get("media_minutes"):
                summary["cpu_s_per_media_minute"] = round(
                    summary["salvesti_cpu_s"] / summary["media_minutes"], 4
                )
            print(f"side by side, {n} calls x {args.seconds:g} s (ratio = salvesti / reference):")
            print(side_by_side(summary, ref), flush=True)
            print()
            clean = clean and ref["clean"]
        if args.json:
            path = (
                args.json
                if len(sizes) == 1
                else args.json.with_name(f"{args.json.stem}-{n}{args.json.suffix}")
            )
            path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        if not clean:
            rc = 1
            if args.sweep:
                print(f"sweep: {n} calls is the first size with loss, failures or bad recordings")
                break
    return rc


async def seed_backlog(salv: Salvesti, audio: Any, n: int) -> None:
    """N finished 60 s calls with speech on both channels, queued for analysis before the start."""
    import wave
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
    from salvesti.plugins import store_sqlite_analysis as sa
    from salvesti.plugins.store_sqlite import SqliteStore

    def mono(path: Path) -> np.ndarray:
        with wave.open(str(path)) as w:
            return np.frombuffer(w.readframes(w.getnframes()), "<i2")

    left, right = np.tile(mono(audio.outside), 6)[: 8000 * 60], np.tile(mono(audio.phone_a), 6)[: 8000 * 60]
    folder = salv.dir / "backlog"
    folder.mkdir(parents=True, exist_ok=True)
    wav = folder / "call.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.stack([left, right], axis=1).astype("<i2").tobytes())
    t0 = datetime.now(UTC) - timedelta(hours=1)
    async with SqliteStore(salv.dir / "data" / "salvesti.db") as store:
        for i in range(n):
            call = Call(
                id=f"backlog-{i:04d}",
                source="bench",
                direction=Direction.INBOUND,
                line="+3720000000",
                remote_number="+3725550000",
                started_at=t0,
                answered_at=t0,
                ended_at=t0 + timedelta(seconds=60),
                disposition=Disposition.ANSWERED,
                recording=RecordingInfo(path=str(wav), status="saved"),
            )
            await store.save_call(call)
            async with store.write() as db:
                await sa.enqueue(db, call.id)


def reference_summary(
    out: dict[str, Any], args: argparse.Namespace, load: Load, *, pinned: bool
) -> dict[str, Any]:
    """summarise() for Kamailio + rtpengine: recordings are pcaps, CPU is both process groups."""
    s = summarise(out, args)
    for key in ("listed_calls", "recordings_length_off", "recording_length_max_off_s", "salvesti_cpu_s"):
        s.pop(key, None)
    call_of_pcap: dict[str, int] = {}
    for name in out["pcaps"]:
        for call_id, i in load.index_of_call.items():
            if name.startswith(call_id):
                call_of_pcap[name] = i
    per_call: dict[int, int] = {}
    short = 0
    for name, packets in out["pcaps"].items():
        i = call_of_pcap.get(name)
        if i is None:
            continue
        per_call[i] = per_call.get(i, 0) + 1
        # rtpengine records what it receives from both far ends; they received what it relayed
        if packets < load.up[i].received + load.down[i].received:
            short += 1
    completed = s["completed"]
    talk_min = sum(r["held"] for r in out["results"] if r.get("ok")) / 60
    s.update(
        recordings=len(out["pcaps"]),
        recording_files=len(out["pcaps"]),
        calls_with_one_pcap=sum(1 for n in per_call.values() if n == 1),
        pcaps_not_matched_to_a_call=len(out["pcaps"]) - len(call_of_pcap),
        pcap_packets=sum(out["pcaps"].values()),
        pcaps_with_fewer_packets_than_relayed=short,
        system_cpu_s=round(out["cpu_s"], 2),
        cpu_s_by_process=out["cpu_parts"] and {k: round(v, 2) for k, v in out["cpu_parts"].items()},
        talk_minutes=round(talk_min, 2),
        cpu_s_per_call_minute=round(out["cpu_s"] / talk_min, 4) if talk_min else None,
        peak_rss_mb=round(out["hwm_mb"], 1),
        media_minutes=round(out["media_minutes"], 2),
        cpu_s_per_media_minute=(
            round(out["cpu_s"] / out["media_minutes"], 4) if out["media_minutes"] else None
        ),
        mode="reference: kamailio + rtpengine (userspace, pcap)",
        reference_pinned=pinned,
    )
    s["clean"] = bool(
        s["failed"] == 0
        and s["rtp_lost_phone_to_carrier"] == 0
        and s["rtp_lost_carrier_to_phone"] == 0
        and s["calls_with_one_pcap"] == completed
        and s["pcaps_not_matched_to_a_call"] == 0
    )
    return s


def side_by_side(salv: dict[str, Any], ref: dict[str, Any]) -> str:
    """The two runs as a table; ratio = Salvesti / reference."""

    def ratio(a: Any, b: Any) -> str:
        return f"{a / b:.2f}" if isinstance(a, int | float) and isinstance(b, int | float) and b else "-"

    rows = [
        ("calls completed", "completed", "completed"),
        ("failed", "failed", "failed"),
        ("lost phone->carrier", "rtp_lost_phone_to_carrier", "rtp_lost_phone_to_carrier"),
        ("lost carrier->phone", "rtp_lost_carrier_to_phone", "rtp_lost_carrier_to_phone"),
        ("received phone->carrier", "rtp_received_phone_to_carrier", "rtp_received_phone_to_carrier"),
        ("received carrier->phone", "rtp_received_carrier_to_phone", "rtp_received_carrier_to_phone"),
        ("recordings (WAV / pcap)", "recordings", "recordings"),
        ("recordings per call", "recordings_per_call", "recordings_per_call"),
        ("CPU s (system under test)", "salvesti_cpu_s", "system_cpu_s"),
        ("media minutes (same basis)", "media_minutes", "media_minutes"),
        ("CPU s per call-minute", "cpu_s_per_media_minute", "cpu_s_per_media_minute"),
        ("peak RSS MB", "peak_rss_mb", "peak_rss_mb"),
        ("setup p50 s", ("setup_s", "p50"), ("setup_s", "p50")),
        ("setup p95 s", ("setup_s", "p95"), ("setup_s", "p95")),
        ("generator CPU %", "generator_cpu_pct", "generator_cpu_pct"),
        ("generator late ticks", "generator_late_ticks", "generator_late_ticks"),
    ]

    def get(d: dict[str, Any], key: Any) -> Any:
        if isinstance(key, tuple):
            return (d.get(key[0]) or {}).get(key[1])
        return d.get(key)

    lines = [f"{'':<28} {'salvesti':>12} {'kamailio+rtpengine':>19} {'ratio':>7}"]
    for label, ks, kr in rows:
        a, b = get(salv, ks), get(ref, kr)
        lines.append(f"{label:<28} {a!s:>12} {b!s:>19} {ratio(a, b):>7}")
    return "\n".join(lines)


def run_once(args: argparse.Namespace, *, pin: bool, cores: int) -> dict[str, Any]:
    """One complete run (fresh Salvesti, fresh work folder) for ``args.calls`` calls."""
    bound = args.timeout or args.calls / args.rate + args.seconds + args.finalise_timeout + 120
    wrapper = ["taskset", "-c", str(cores - 1)] if pin else []
    work = Path(tempfile.mkdtemp(prefix="salvesti-bench-"))
    audio = make_audio_set(work / "audio")
    filler = g711_filler(audio.dir / "outside_u-law.wav")

    async def go() -> dict[str, Any]:
        load = Load(args.calls, filler)
        await load.open()
        if args.direct:  # the generator alone: phones call the carrier straight, no Salvesti
            try:
                out = await asyncio.wait_for(
                    run_calls(load, ("127.0.0.1", load.carrier.port), args, pid=None, list_calls=None), bound
                )
                return {**summarise(out, args), "mode": "direct (no Salvesti)"}
            finally:
                await load.close()
        exts = {str(2000 + i): (f"bench-pw-{2000 + i}", f"Bench {i}") for i in range(args.calls)}
        extra = ""
        if args.analysis_backlog:
            extra = "analysis:\n  purpose: bench\n  transcription: {model: tiny.en, language: en}\n"
        salv = Salvesti(
            work,
            notice=audio.notice,
            trunk_port=load.carrier.port,
            extensions=exts,
            rtp_ports=4 * args.calls + 40,
            inbound_extensions=("2000",),
            wrapper=wrapper,
            timeout_s=bound + 30,
            extra_blocks=extra,
        )
        if args.analysis_backlog:
            await seed_backlog(salv, audio, args.analysis_backlog)
        try:
            await load.start(salv)
            out = await asyncio.wait_for(
                run_calls(
                    load,
                    ("127.0.0.1", salv.sip_port),
                    args,
                    pid=salv.pid,
                    list_calls=lambda: calls_json(salv.config_path, "--direction", "outbound"),
                ),
                bound,
            )
            result = {
                **summarise(out, args),
                "media_minutes": round(out["media_minutes"], 2),
                "mode": "salvesti",
                "salvesti_pinned": bool(pin),
            }
            if args.analysis_backlog:
                status = salv.cli("analysis", "status", "-c", str(salv.config_path), "--json")
                result["analysis_backlog"] = {
                    "queued": args.analysis_backlog,
                    **json.loads(status.stdout)["counts"],
                }
            return result
        finally:
            await asyncio.to_thread(salv.stop)
            await load.close()

    async def go_reference() -> dict[str, Any]:
        """The same load through Kamailio + rtpengine, pinned to the same core."""
        load = Load(args.calls, filler)
        await load.open()
        ref = KamailioRtpengine(
            work,
            carrier_port=load.carrier.port,
            extensions={str(2000 + i): f"bench-pw-{2000 + i}" for i in range(args.calls)},
            sip_port=PORTS.port(),
            ng_port=PORTS.port(),
            rtp_range=PORTS.block(4 * args.calls + 40),
            wrapper=wrapper,
        )
        try:
            await asyncio.to_thread(ref.start)
            out = await asyncio.wait_for(
                run_calls(load, ("127.0.0.1", ref.sip_port), args, pid=None, list_calls=None, reference=ref),
                bound,
            )
            return reference_summary(out, args, load, pinned=pin)
        finally:
            await asyncio.to_thread(ref.stop)
            await load.close()

    load_before = os.getloadavg()
    try:
        summary = {"machine": machine(), **asyncio.run(go())}
        if args.reference:
            summary["loadavg_1min_after_salvesti"] = round(os.getloadavg()[0], 2)
            summary["reference"] = asyncio.run(go_reference())
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    # Other processes on the machine distort every figure: keep the load around the run.
    summary["loadavg_1min_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    return summary


if __name__ == "__main__":
    sys.exit(main())
