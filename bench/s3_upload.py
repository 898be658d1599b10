"""Benchmark: finished recordings into an S3 object store (the ``s3`` sink, plugins/sink_s3/).

    .venv/bin/python bench/s3_upload.py --files 200 --large 3
    unshare -n sh -c 'ip link set lo up && exec "$@"' sh \\
        .venv/bin/python bench/s3_upload.py --files 0 --calls 200 --seconds 20

Both parts run against a local SeaweedFS with authentication on (``salvesti.testing.seaweedfs``),
so what is measured is the real signed, checksummed path a deployment takes.

(a) ``--files N``: the sink alone.  N finished recordings of a 60 s stereo 8 kHz 16-bit WAV
    (1.92 MB) plus ``--large`` ones above the multipart threshold are written into the sink's
    spool beforehand (not timed), then all are handed to ``S3Sink.finalize`` at once, as N
    calls ending together would.  Prints MB/s, objects/s, p50/p95/max per upload, and the CPU
    seconds of this process (the uploader) and of SeaweedFS, so the store's own cost is apart.
(b) ``--calls M`` (bench/s3_e2e.py): M concurrent calls through one ``salvesti run`` whose sink is
    ``s3``, with bench/calls.py's load generator; per call the delay from its ``ended_at`` to the
    call object showing an ``s3://`` path, and every object's sha256 checked by GET.

Figures vary with the machine's load: the 1-minute load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))  # the harness bench/calls.py uses
sys.path.insert(0, str(HERE))

from callstats import machine, proc_cpu_s, proc_hwm_mb  # noqa: E402

from salvesti.core.call import Call, Direction, Disposition  # noqa: E402
from salvesti.plugins.sink_s3.sink import S3Sink  # noqa: E402
from salvesti.plugins.sink_s3.upload import MIB  # noqa: E402
from salvesti.testing.seaweedfs import BUCKET, WeedServer  # noqa: E402

RATE = 8000
FRAME = 4  # stereo, 16-bit
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def pct(values: list[float]) -> dict[str, float]:
    """p50/p95/max in seconds (nearest rank), rounded for printing."""
    if not values:
        return {}
    s = sorted(values)
    rank = lambda q: s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))]  # noqa: E731
    return {"p50": round(rank(0.50), 3), "p95": round(rank(0.95), 3), "max": round(s[-1], 3), "n": len(s)}


def bench_call(i: int) -> Call:
    started = T0 + timedelta(seconds=i)
    call = Call(
        id=f"bench-{i:06d}", source="bench", direction=Direction.OUTBOUND, line="+3726000000",
        remote_number=f"+3725{i:07d}", started_at=started, answered_at=started,
        ended_at=started + timedelta(seconds=60), disposition=Disposition.ANSWERED,
    )  # fmt: skip
    call.meta["sink"] = "bucket"
    return call


def sink_conf(server: WeedServer, **extra: Any) -> dict[str, Any]:
    creds = server.credentials
    return {
        "platform": "s3", "id": "bucket", "endpoint": server.endpoint, "bucket": BUCKET,
        "region": creds.region, "access_key": creds.access_key, "secret_key": creds.secret_key,
        "prefix": "bench/", "format": "wav", **extra,
    }  # fmt: skip


def knobs(args: argparse.Namespace) -> dict[str, Any]:
    """The sink settings the command line overrides (the sink's defaults otherwise)."""
    return {"max_uploads": args.max_uploads} if args.max_uploads else {}


def write_recording(sink: S3Sink, call: Call, seconds: float, seed: int) -> Any:
    """A finished call's WAV in the sink's spool, as the call would have left it (not timed).

    Noise, not silence: nothing on the path compresses, but a store that deduplicates or a
    client that skipped bytes would look faster on constant data."""
    import numpy as np

    writer = sink.open(call, RATE)
    rng = np.random.default_rng(seed)
    left = int(seconds * RATE)
    while left > 0:  # one second of frames at a time, as a call writes them
        n = min(RATE, left)
        writer.write_frames(rng.integers(-3000, 3000, size=2 * n, dtype="<i2").tobytes())
        left -= n
    return writer


async def sink_alone(server: WeedServer, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """(a): every recording handed to ``finalize`` at once; timing each and all together."""
    loop = asyncio.get_running_loop()
    hub = SimpleNamespace(data_dir=work, tz=None, store=None, bus=None, create_task=loop.create_task)
    sink = S3Sink(hub, sink_conf(server, **knobs(args)))
    await sink.async_setup()
    sizes = [args.seconds] * args.files + [args.large_mib * MIB / (RATE * FRAME)] * args.large
    calls = [bench_call(i) for i in range(len(sizes))]
    writers = [
        await asyncio.to_thread(write_recording, sink, c, s, i)
        for i, (c, s) in enumerate(zip(calls, sizes, strict=True))
    ]
    per: list[float] = [0.0] * len(calls)
    infos: list[Any] = [None] * len(calls)

    async def one(i: int) -> None:
        t = time.monotonic()
        infos[i] = await sink.finalize(calls[i], writers[i])
        per[i] = time.monotonic() - t

    me, weed = os.getpid(), server.proc.pid if server.proc else 0
    cpu0, weed0, load0 = proc_cpu_s(me), proc_cpu_s(weed), os.getloadavg()[0]
    hwm0 = proc_hwm_mb(me)
    t0 = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(len(calls))))
    wall = time.monotonic() - t0
    cpu, weed_cpu = proc_cpu_s(me) - cpu0, proc_cpu_s(weed) - weed0
    total = sum(int(i.bytes or 0) for i in infos)
    bad = await verify(sink, infos) if args.verify else None
    await sink.async_unload()
    small, large = per[: args.files], per[args.files :]
    return {
        "objects": len(calls),
        "multipart_objects": args.large,
        "bytes": total,
        "wall_s": round(wall, 3),
        "mb_per_s": round(total / 1e6 / wall, 1),
        "objects_per_s": round(len(calls) / wall, 1),
        "per_upload_s": pct(small),
        "per_large_upload_s": pct(large),
        "uploader_cpu_s": round(cpu, 2),
        "seaweedfs_cpu_s": round(weed_cpu, 2),
        # VmHWM before and after: how much of the recordings the uploader held in memory at once
        "uploader_peak_rss_mb_before_after": [round(hwm0), round(proc_hwm_mb(me))],
        "spooled": sum(1 for i in infos if i.status != "saved"),
        "sha256_mismatch": bad,
        "loadavg_1min_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }


async def verify(sink: S3Sink, infos: list[Any]) -> int:
    """GET every object back and count those whose sha256 is not the recording's."""
    sem = asyncio.Semaphore(16)

    async def check(info: Any) -> bool:
        key = sink.key_of(info.path)
        if key is None:
            return False
        h = hashlib.sha256()
        async with sem, sink.client.request("GET", key) as resp:
            async for chunk in resp.content.iter_chunked(MIB):
                h.update(chunk)
        return h.hexdigest() == info.sha256

    return sum(1 for ok in await asyncio.gather(*(check(i) for i in infos)) if not ok)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="salvesti-s3bench-") as tmp:
        work = Path(tmp)
        server = WeedServer(work / "weed")
        server.start()
        try:
            await server.wait_ready()
            out: dict[str, Any] = {"machine": machine()}
            if args.files or args.large:
                out["sink_alone"] = await sink_alone(server, work / "a", args)
            if args.calls:
                from s3_e2e import end_to_end

                out["end_to_end"] = await end_to_end(server, work / "b", args)
            return out
        finally:
            server.kill()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=200, help="(a) recordings of --seconds each")
    ap.add_argument("--seconds", type=float, default=60.0, help="(a) length of each recording")
    ap.add_argument("--large", type=int, default=3, help="(a) recordings above the multipart threshold")
    ap.add_argument("--large-mib", type=float, default=40.0)
    ap.add_argument("--no-verify", dest="verify", action="store_false", help="(a) skip the GET check")
    ap.add_argument("--calls", type=int, default=0, help="(b) concurrent calls through salvesti run")
    ap.add_argument("--talk", type=float, default=20.0, help="(b) talk time per call")
    ap.add_argument("--rate", type=float, default=20.0, help="(b) new calls per second")
    ap.add_argument("--deadline", type=float, default=120.0, help="(b) wait for s3:// paths this long")
    ap.add_argument("--max-uploads", type=int, default=0, help="the sink's max_uploads (0: its default)")
    ap.add_argument("--json", type=Path, help="also write the summary here")
    args = ap.parse_args(argv)
    summary = asyncio.run(run(args))
    for part, values in summary.items():
        print(f"{part}: {json.dumps(values, ensure_ascii=False)}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    a, b = summary.get("sink_alone", {}), summary.get("end_to_end", {})
    clean = not a.get("spooled") and not a.get("sha256_mismatch") and b.get("clean", True)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
