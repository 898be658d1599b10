"""Figures for bench/calls.py: CPU and memory of a process from /proc, the machine, the summary.

Kept apart from the load generator so the numbers' definitions are easy to read in one place.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """utime + stime + cutime + cstime of a process (all its threads) in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK


def thread_cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds of a process by part: its event loop (the main thread), its native RTP
    workers (threads named ``salvesti-rtp``), and everything else (the database thread,
    executors, exited threads, children), which is the rest of :func:`proc_cpu_s`.

    This is what says how the load would spread over more cores: the workers' share scales
    out with ``media_workers``, the loop's does not."""
    parts = {"loop": 0.0, "rtp_workers": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            name = (task / "comm").read_text().strip()
        except OSError:
            continue  # the thread ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        if task.name == str(pid):
            parts["loop"] += cpu
        elif name == "salvesti-rtp":
            parts["rtp_workers"] += cpu
    parts["other"] = max(proc_cpu_s(pid) - parts["loop"] - parts["rtp_workers"], 0.0)
    return parts


def proc_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine() -> dict[str, Any]:
    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(ln.split()[1])
        for ln in Path("/proc/meminfo").read_text().splitlines()
        if ln.startswith("MemTotal:")
    )
    try:
        commit = subprocess.run(
            ["git", "-C", str(Path(__file__).parent), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        "salvesti_commit": commit or None,
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    v = sorted(values)
    p95 = v[max(0, int(len(v) * 0.95) - 1)]
    return {"p50": round(v[len(v) // 2], 3), "p95": round(p95, 3), "max": round(v[-1], 3)}


def timings(out: dict[str, Any]) -> dict[str, Any]:
    """Call setup and notice/bridge timing, per call, summarised."""
    setup, notice_wait, gap_at_carrier, silent = [], [], [], 0
    for i, r in enumerate(out["results"]):
        if "setup_s" in r:
            setup.append(r["setup_s"])
        if r.get("ok") and i in out["carrier_answered"]:
            notice_wait.append(r["answered"] - out["carrier_answered"][i])
        down = out["down"][i]
        if down.t_first_own is not None and down.t_last_foreign is not None:
            gap_at_carrier.append(down.t_first_own - down.t_last_foreign)
        if r.get("ok") and (down.received == 0 or out["up"][i].received == 0):
            silent += 1
    return {
        "setup_s": _stats(setup),  # phone INVITE -> 200 at the phone
        "carrier_answer_to_phone_answer_s": _stats(notice_wait),  # ~ the notice when idle
        "notice_end_to_agent_audio_at_carrier_s": _stats(gap_at_carrier),
        "calls_with_a_silent_direction": silent,
    }


def summarise(out: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    ok = [r for r in out["results"] if r.get("ok")]
    errors = sorted({r["error"] for r in out["results"] if not r.get("ok")})[:5]
    up_lost = sum(s.lost for s in out["up"])
    down_lost = sum(s.lost for s in out["down"])
    up_rx = sum(s.received for s in out["up"])  # phone side: what the carrier sent
    down_rx = sum(s.received for s in out["down"])  # carrier side: what the phone sent
    calls = [c for c in out["calls"] if c.get("ended_at")]
    recs = [c for c in calls if (c.get("recording") or {}).get("sha256")]
    bad_len = [
        c["id"]
        for c in recs
        if c.get("duration_s") is None or abs(c["recording"]["duration_s"] - c["duration_s"]) > 0.1
    ]
    files = [c for c in recs if Path(c["recording"]["path"]).exists()]
    talk_min = sum(c["duration_s"] or 0 for c in calls) / 60 or len(ok) * args.seconds / 60
    return {
        "calls": args.calls,
        "seconds": args.seconds,
        "rate": args.rate,
        "completed": len(ok),
        "failed": args.calls - len(ok),
        "errors": errors,
        "rtp_lost_phone_to_carrier": down_lost,
        "rtp_lost_carrier_to_phone": up_lost,
        "rtp_received_phone_to_carrier": down_rx,
        "rtp_received_carrier_to_phone": up_rx,
        "crossed_packets": sum(s.crossed for s in out["up"] + out["down"]),
        "duplicates": sum(s.duplicates for s in out["up"] + out["down"]),
        "listed_calls": len(calls),
        "recordings": len(recs),
        "recording_files": len(files),
        "recordings_length_off": len(bad_len),
        "recording_length_max_off_s": round(
            max((abs(c["recording"]["duration_s"] - (c["duration_s"] or 0)) for c in recs), default=0.0), 3
        ),
        "salvesti_cpu_s": round(out["cpu_s"], 2),
        "salvesti_cpu_s_by_thread": out.get("cpu_by_thread") or None,
        "talk_minutes": round(talk_min, 2),
        "cpu_s_per_call_minute": round(out["cpu_s"] / talk_min, 4) if talk_min else None,
        "peak_rss_mb": round(out["hwm_mb"], 1),
        "wall_s": round(out["wall_s"], 1),
        "generator_cpu_pct": round(100 * out["gen_cpu_s"] / out["calls_wall_s"], 1),
        "generator_late_ticks": out["late_ticks"],
        **timings(out),
    }
