"""Soak: a long run of a steady call load through one ``salvesti run``; is anything drifting?

    .venv/bin/python bench/soak.py --minutes 60 --concurrent 30 --seconds 60
    .venv/bin/python bench/soak.py --minutes 2 --concurrent 4 --seconds 10 --json soak.json

Recorders fail slowly as often as suddenly: a leak of a few kB per call, a file handle per
recording, a task that is never reaped only show after hours.  So this keeps ``--concurrent``
calls up for ``--minutes`` (each slot calls, talks ``--seconds`` ± 20 %, hangs up, pauses two
seconds, calls again; the slots start spread over one call's length so calls end and begin
all the time) and samples the process every ``--sample`` seconds: RSS, open file
descriptors, threads, asyncio-visible calls.  At the end it waits for every recording and
checks them as bench/calls.py does: one per completed call, its length within 100 ms of the
answered time, its file present.  Memory is "flat" when the least-squares slope of RSS after
the warm-up (the first fifth of the run) is under ``--flat-mb-per-hour``.

The far ends are bench/calls.py's: phones register with digest and call out through the
trunk to the bench's carrier; both directions carry 50 PCMU packets/s counted by payload, so
a lost packet shows wherever it happens.  Ten times a small office (three calls at once) is
the default load.  Bounded: every wait has a deadline, the whole run has one too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calls import Load, g711_filler  # noqa: E402
from callstats import machine, proc_cpu_s  # noqa: E402
from harness.audio import make_audio_set  # noqa: E402
from harness.salvesti import Salvesti, calls_json  # noqa: E402
from rtpgen import Stream  # noqa: E402
from sipua import Phone  # noqa: E402


def proc_sample(pid: int) -> dict[str, float]:
    """RSS (MB), open file descriptors and threads of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {ln.split(":", 1)[0]: ln.split(":", 1)[1].split() for ln in status if ":" in ln}
    return {
        "rss_mb": int(fields["VmRSS"][0]) / 1024,
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(fields["Threads"][0]),
        "cpu_s": proc_cpu_s(pid),
    }


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per hour."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    den = sum((t - mx) ** 2 for t, _ in points)
    return 0.0 if den == 0 else 3600 * sum((t - mx) * (v - my) for t, v in points) / den


@dataclass
class StreamTally:
    """Loss of one stream summed over its calls: each call is a segment of its own.

    A stream is reused call after call; packets the carrier sends after the phone hung up
    are lost by design (nobody relays them), so gaps are counted inside a call only."""

    received: int = 0
    lost: int = 0

    def close_segment(self, s: Stream) -> None:
        self.received += s.received
        self.lost += s.lost
        s.received, s.first_counter, s.last_counter = 0, None, -1
        s.seen = bytearray(len(s.seen))


@dataclass
class Slot:
    """One of the concurrent calls: a phone placing call after call."""

    index: int
    phone: Phone
    completed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    setup_s: list[float] = field(default_factory=list)
    up: StreamTally = field(default_factory=StreamTally)
    down: StreamTally = field(default_factory=StreamTally)


async def run_slot(slot: Slot, load: Load, args: argparse.Namespace, stop_at: float) -> None:
    i = slot.index
    rng = random.Random(i)
    await asyncio.sleep(i * args.seconds / args.concurrent)  # spread the starts over one call
    up, down = load.up[i], load.down[i]
    while time.monotonic() < stop_at:
        t0 = time.monotonic()
        try:
            dialog = await slot.phone.invite(load.number(i), up.port)
            slot.setup_s.append(time.monotonic() - t0)
            up.remote, up.sending = dialog.remote_media, True
            await asyncio.sleep(args.seconds * rng.uniform(0.8, 1.2))
            up.sending = False
            status = await dialog.bye()
            if status != 200:
                raise RuntimeError(f"BYE answered {status}")
            slot.completed += 1
        except Exception as exc:  # a failed call is a result of the soak, not its end
            up.sending = False
            slot.failed += 1
            if len(slot.errors) < 3:
                slot.errors.append(repr(exc))
        await asyncio.sleep(1.0)  # the carrier's last packets land before the next call
        down.sending = False
        slot.up.close_segment(up)
        slot.down.close_segment(down)
        await asyncio.sleep(1.0)


async def soak(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    audio = make_audio_set(work / "audio")
    load = Load(args.concurrent, g711_filler(audio.dir / "outside_u-law.wav"))
    await load.open()
    n = args.concurrent
    exts = {str(2000 + i): (f"soak-pw-{2000 + i}-Xq", f"Soak {i}") for i in range(n)}
    run_s = args.minutes * 60
    salv = Salvesti(
        work,
        notice=audio.notice,
        trunk_port=load.carrier.port,
        extensions=exts,
        rtp_ports=4 * n + 40,
        inbound_extensions=("2000",),
        timeout_s=run_s + 600,
    )
    samples: list[dict[str, float]] = []
    try:
        await load.start(salv)
        phones = [Phone(u, pw, ("127.0.0.1", salv.sip_port)) for u, (pw, _) in exts.items()]
        for p in phones:
            await p.open()
        await asyncio.gather(*(p.register() for p in phones))
        slots = [Slot(i, p) for i, p in enumerate(phones)]
        idle = proc_sample(salv.pid)
        t0 = time.monotonic()
        stop_at = t0 + run_s
        load.ticker.start(run_s + args.seconds * 2 + 60)
        tasks = [asyncio.create_task(run_slot(s, load, args, stop_at)) for s in slots]

        async def sampler() -> None:
            next_register = t0 + 900
            while time.monotonic() < stop_at:
                await asyncio.sleep(args.sample)
                sample = proc_sample(salv.pid)
                sample["t_s"] = time.monotonic() - t0
                sample["calls_up"] = sum(1 for s in load.up if s.sending)
                samples.append(sample)
                if args.progress:
                    done = sum(s.completed for s in slots)
                    print(
                        f"{sample['t_s'] / 60:6.1f} min  rss {sample['rss_mb']:6.1f} MB  "
                        f"fds {sample['fds']:4.0f}  threads {sample['threads']:3.0f}  "
                        f"calls done {done}",
                        file=sys.stderr,
                        flush=True,
                    )
                if time.monotonic() > next_register:  # phones keep their registrations fresh
                    next_register += 900
                    await asyncio.gather(*(p.register() for p in phones), return_exceptions=True)

        sampler_task = asyncio.create_task(sampler())
        await asyncio.wait_for(asyncio.gather(*tasks), run_s + args.seconds * 2 + 120)
        sampler_task.cancel()
        t_end = time.monotonic()
        completed = sum(s.completed for s in slots)
        calls: list[dict[str, Any]] = []
        deadline = time.monotonic() + args.finalise_timeout
        while time.monotonic() < deadline:  # every recording finalised, bounded
            calls = await asyncio.to_thread(
                calls_json, salv.config_path, "--direction", "outbound", "--limit", "0"
            )
            if sum(1 for c in calls if (c.get("recording") or {}).get("sha256")) >= completed:
                break
            await asyncio.sleep(2.0)
        end = proc_sample(salv.pid)
        for p in phones:
            p.close()
    finally:
        await asyncio.to_thread(salv.stop)
        await load.close()
    return summarise(args, slots, samples, idle, end, calls, t_end - t0)


def summarise(
    args: argparse.Namespace,
    slots: list[Slot],
    samples: list[dict[str, float]],
    idle: dict[str, float],
    end: dict[str, float],
    calls: list[dict[str, Any]],
    wall_s: float,
) -> dict[str, Any]:
    ended = [c for c in calls if c.get("ended_at")]
    recs = [c for c in ended if (c.get("recording") or {}).get("sha256")]
    off = [
        c["id"]
        for c in recs
        if c.get("duration_s") is None or abs(c["recording"]["duration_s"] - c["duration_s"]) > 0.1
    ]
    missing_files = [c["id"] for c in recs if not Path(c["recording"]["path"]).exists()]
    warm = [s for s in samples if s["t_s"] >= wall_s / 5]
    setup = sorted(t for s in slots for t in s.setup_s)
    completed = sum(s.completed for s in slots)
    rss_slope = slope_per_hour([(s["t_s"], s["rss_mb"]) for s in warm])
    fds_slope = slope_per_hour([(s["t_s"], s["fds"]) for s in warm])
    talk_min = sum(c.get("duration_s") or 0 for c in ended) / 60
    summary = {
        "minutes": args.minutes,
        "concurrent": args.concurrent,
        "seconds_per_call": args.seconds,
        "wall_s": round(wall_s, 1),
        "calls_completed": completed,
        "calls_failed": sum(s.failed for s in slots),
        "errors": sorted({e for s in slots for e in s.errors})[:5],
        "rtp_lost_phone_to_carrier": sum(s.down.lost for s in slots),
        "rtp_lost_carrier_to_phone": sum(s.up.lost for s in slots),
        "rtp_received_phone_to_carrier": sum(s.down.received for s in slots),
        "rtp_received_carrier_to_phone": sum(s.up.received for s in slots),
        "calls_listed": len(ended),
        "recordings": len(recs),
        "recordings_missing": max(completed - len(recs), 0),
        "recording_files_missing": len(missing_files),
        "recordings_length_off_100ms": len(off),
        "setup_p95_s": round(setup[max(0, int(len(setup) * 0.95) - 1)], 3) if setup else None,
        "rss_idle_mb": round(idle["rss_mb"], 1),
        "rss_end_mb": round(end["rss_mb"], 1),
        "rss_min_max_after_warmup_mb": (
            [round(min(s["rss_mb"] for s in warm), 1), round(max(s["rss_mb"] for s in warm), 1)]
            if warm
            else None
        ),
        "rss_slope_mb_per_hour_after_warmup": round(rss_slope, 2),
        "fds_idle_end": [idle["fds"], end["fds"]],
        "fds_slope_per_hour_after_warmup": round(fds_slope, 2),
        "threads_idle_end": [idle["threads"], end["threads"]],
        "salvesti_cpu_s": round(end["cpu_s"] - idle["cpu_s"], 1),
        "cpu_s_per_call_minute": round((end["cpu_s"] - idle["cpu_s"]) / talk_min, 4) if talk_min else None,
        "loadavg_1min_end": round(os.getloadavg()[0], 2),
        "samples": [{k: round(v, 2) for k, v in s.items()} for s in samples],
    }
    summary["memory_flat"] = abs(rss_slope) <= args.flat_mb_per_hour and fds_slope <= 1.0
    summary["clean"] = bool(
        summary["memory_flat"]
        and summary["calls_failed"] == 0
        and summary["recordings_missing"] == 0
        and summary["recording_files_missing"] == 0
        and summary["recordings_length_off_100ms"] == 0
        and summary["rtp_lost_phone_to_carrier"] == 0
        and summary["rtp_lost_carrier_to_phone"] == 0
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--concurrent", type=int, default=30, help="calls up at once (default: 10 x 3)")
    ap.add_argument("--seconds", type=float, default=60.0, help="talk time per call (± 20 %%)")
    ap.add_argument("--sample", type=float, default=30.0, help="seconds between process samples")
    ap.add_argument("--flat-mb-per-hour", type=float, default=5.0)
    ap.add_argument("--finalise-timeout", type=float, default=120.0)
    ap.add_argument("--progress", action="store_true", help="print each sample to stderr")
    ap.add_argument("--json", type=Path, help="also write the summary (with every sample) here")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args(argv)
    if not 1 <= args.concurrent <= 500 or args.minutes <= 0:
        ap.error("--concurrent must be 1..500 and --minutes positive")
    work = Path(tempfile.mkdtemp(prefix="salvesti-soak-"))
    try:
        summary = {"machine": machine(), **asyncio.run(soak(args, work))}
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        if key != "samples":
            print(f"{key:<{width}}  {json.dumps(value, ensure_ascii=False)}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return 0 if summary["clean"] else 1


if __name__ == "__main__":
    sys.exit(main())
