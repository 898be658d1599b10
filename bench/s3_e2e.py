"""Part (b) of bench/s3_upload.py: N concurrent calls through ``salvesti run`` with the ``s3`` sink.

The calls are bench/calls.py's (its load generator and ``run_calls``); only the sink differs.
While they run, a poller reads the call objects from the store every ``POLL_S`` and notes, per
call, the first read whose recording path is ``s3://``.  The delay reported is from the call's
``ended_at`` to that read, an upper bound at most one poll period above the true delay.
Afterwards the calls are listed with the CLI (``salvesti calls list --json``), and every object
is fetched and its sha256 and size compared with the call object's.
Must run where SIP on loopback is private (``unshare -n``), with the SeaweedFS of the caller.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from calls import Load, g711_filler, run_calls
from callstats import proc_cpu_s, summarise
from harness.audio import make_audio_set
from harness.salvesti import Salvesti, calls_json
from s3_upload import knobs, pct

from salvesti.testing.seaweedfs import BUCKET, WeedServer

POLL_S = 0.25


class Poller:
    """Reads the store until every call shows an ``s3://`` path; remembers when each first did.

    The store is Salvesti's SQLite file, read-only (WAL lets a reader look while the recorder
    writes): what the CLI and API would answer, at a fraction of a CLI run's cost (about 3 s of
    CPU at 200 calls on this machine, which would both coarsen the figure and load the box)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.latest: list[dict[str, Any]] = []
        self.first_s3: dict[str, float] = {}  # call id -> wall clock of the first read showing it
        self.listings = 0
        self.want = 0  # lowered to the calls that completed once they are known

    def _read(self) -> list[dict[str, Any]]:
        if not self.db.exists():
            return []
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute("SELECT data FROM calls WHERE direction = 'outbound'").fetchall()
        except sqlite3.OperationalError:
            return []  # not migrated yet
        finally:
            con.close()
        return [json.loads(r[0]) for r in rows]

    async def run(self, want: int, deadline: float) -> None:
        self.want = want
        while time.monotonic() < deadline and len(self.first_s3) < self.want:
            calls = await asyncio.to_thread(self._read)
            seen = time.time()
            self.latest, self.listings = calls, self.listings + 1
            for c in calls:
                path = (c.get("recording") or {}).get("path") or ""
                if path.startswith("s3://") and c["id"] not in self.first_s3:
                    self.first_s3[c["id"]] = seen
            await asyncio.sleep(POLL_S)


async def check_objects(server: WeedServer, calls: list[dict[str, Any]]) -> dict[str, int]:
    """GET every call's object; count missing objects and sha256 or size mismatches."""
    client, sem = server.client(), asyncio.Semaphore(16)
    head = f"s3://{BUCKET}/"

    async def one(c: dict[str, Any]) -> str:
        rec = c.get("recording") or {}
        path = rec.get("path") or ""
        if not path.startswith(head):
            return "not_in_store"
        h, size = hashlib.sha256(), 0
        async with sem, client.request("GET", path[len(head) :], ok=(200, 404)) as resp:
            if resp.status == 404:
                return "missing"
            async for chunk in resp.content.iter_chunked(1 << 20):
                h.update(chunk)
                size += len(chunk)
        return "ok" if h.hexdigest() == rec.get("sha256") and size == rec.get("bytes") else "mismatch"

    try:
        found = await asyncio.gather(*(one(c) for c in calls))
    finally:
        await client.close()
    return {k: found.count(k) for k in ("ok", "mismatch", "missing", "not_in_store")}


async def end_to_end(server: WeedServer, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    n = args.calls
    cores = os.cpu_count() or 1
    pin = cores >= 2 and shutil.which("taskset") is not None
    if pin:
        os.sched_setaffinity(0, {0})  # the generator, the poller and SeaweedFS's client side
    audio = make_audio_set(work / "audio")
    load = Load(n, g711_filler(audio.dir / "outside_u-law.wav"))
    await load.open()
    creds = server.credentials
    sink = (
        f"  - {{platform: s3, id: bucket, endpoint: '{server.endpoint}', bucket: {BUCKET}, "
        f"region: {creds.region}, access_key: {creds.access_key}, secret_key: {creds.secret_key}, "
        "prefix: e2e/, format: wav" + "".join(f", {k}: {v}" for k, v in knobs(args).items()) + "}\n"
    )
    bound = n / args.rate + args.talk + args.deadline + 120
    salv = Salvesti(
        work, notice=audio.notice, trunk_port=load.carrier.port, sinks=sink,
        extensions={str(2000 + i): (f"bench-pw-{2000 + i}", f"Bench {i}") for i in range(n)},
        rtp_ports=4 * n + 40, inbound_extensions=("2000",), timeout_s=bound + 30,
        wrapper=["taskset", "-c", str(cores - 1)] if pin else [],
    )  # fmt: skip
    poller = Poller(salv.dir / "data" / "salvesti.db")
    ns = argparse.Namespace(calls=n, seconds=args.talk, rate=args.rate, finalise_timeout=args.deadline)
    load0 = os.getloadavg()[0]
    try:
        await load.start(salv)
        weed0 = proc_cpu_s(server.proc.pid) if server.proc else 0.0
        deadline = time.monotonic() + n / args.rate + args.talk + args.deadline
        polling = asyncio.create_task(poller.run(n, deadline))
        out = await asyncio.wait_for(
            run_calls(load, ("127.0.0.1", salv.sip_port), ns, pid=salv.pid, list_calls=lambda: poller.latest),
            bound,
        )
        poller.want = sum(1 for r in out["results"] if r.get("ok"))  # a failed call records nothing
        await asyncio.wait_for(polling, bound)
        weed_cpu = (proc_cpu_s(server.proc.pid) if server.proc else 0.0) - weed0
        calls = await asyncio.to_thread(calls_json, salv.config_path, "--direction", "outbound")
    finally:
        await asyncio.to_thread(salv.stop)
        await load.close()
    out["calls"] = calls
    calls_summary = summarise(out, ns)
    delays = [
        poller.first_s3[c["id"]] - datetime.fromisoformat(c["ended_at"]).timestamp()
        for c in calls
        if c["id"] in poller.first_s3 and c.get("ended_at")
    ]

    objects = await check_objects(server, calls)
    in_store = len(poller.first_s3)
    return {
        "calls": n,
        "talk_s": args.talk,
        "completed": calls_summary.get("completed"),
        "failed": calls_summary.get("failed"),
        "rtp_lost": [
            calls_summary.get("rtp_lost_phone_to_carrier"),
            calls_summary.get("rtp_lost_carrier_to_phone"),
        ],
        "in_object_store": in_store,
        "recordings_length_off": calls_summary.get("recordings_length_off"),
        "recording_length_max_off_s": calls_summary.get("recording_length_max_off_s"),
        "ended_to_s3_path_s_upper_bound": pct(delays),
        "poll_period_s": POLL_S,
        "listings": poller.listings,
        "objects": objects,
        "salvesti_cpu_s": calls_summary.get("salvesti_cpu_s"),
        "seaweedfs_cpu_s": round(weed_cpu, 2),
        "peak_rss_mb": calls_summary.get("peak_rss_mb"),
        "salvesti_pinned": pin,
        "loadavg_1min_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "clean": in_store == n and objects["ok"] == n and calls_summary.get("failed") == 0,
        "errors": calls_summary.get("errors"),
    }
