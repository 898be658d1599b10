"""Benchmark: N concurrent browser-phone calls beside N desk-phone G.711 calls, one run.

    .venv/bin/python bench/webrtc.py --calls 10 --seconds 20
    .venv/bin/python bench/webrtc.py --calls 20 --seconds 30 --json out.json

All on 127.0.0.1, through ``salvesti run`` (harness in tests/e2e/harness):
1. One Salvesti with a sip_trunk source (the carrier is a sipp that answers and plays
   speech) and a webrtc source with N browser extensions, N web users.
2. Browser phase: N aiortc clients (the browsers' stand-in: Opus, DTLS-SRTP, ICE, exactly
   the page's protocol) log in, open the phone socket and call out at once; each talks for
   ``--seconds`` after "connected", then hangs up.
3. Desk phase, same process: N G.711 calls from a sipp phone (digest) for the same talk time.
4. For each phase: Salvesti's CPU (utime+stime of the process and its threads, from
   /proc/<pid>/stat) from the first call until every recording is finalised, divided by the
   phase's call-minutes (answered to ended, from the call objects), and its resident memory
   while the calls are up, above the idle figure, per call.

The clients run in this process, never in Salvesti's: only Salvesti is measured.  Every wait
has a deadline.  Figures go in docs/performance.md; nothing here is a pass/fail threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from callstats import machine, proc_cpu_s  # noqa: E402
from harness.audio import make_audio_set  # noqa: E402
from harness.browser_phone import PhoneClient  # noqa: E402
from harness.flows import OUTSIDE  # noqa: E402
from harness.lab import Lab  # noqa: E402
from harness.ports import PORTS  # noqa: E402
from harness.salvesti import EXTENSIONS, Salvesti, calls_json  # noqa: E402

PASSWORD = "bench-long-password-1"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def call_minutes(calls: list[dict[str, Any]]) -> float:
    total = 0.0
    for c in calls:
        if c.get("answered_at") and c.get("ended_at"):
            a = datetime.fromisoformat(c["answered_at"])
            e = datetime.fromisoformat(c["ended_at"])
            total += (e - a).total_seconds()
    return total / 60


def wait_calls(salv: Salvesti, n: int, pred: Any, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [
            c
            for c in calls_json(salv.config_path)
            if pred(c) and c.get("ended_at") and (c.get("recording") or {}).get("sha256")
        ]
        if len(done) >= n:
            return done
        time.sleep(0.5)
    raise SystemExit(f"only some of {n} calls ended with a finalised recording within {timeout} s")


def browser_phase(salv: Salvesti, n: int, seconds: float, work: Path, mic: Path) -> dict[str, Any]:
    pid = salv.pid
    url = f"http://127.0.0.1:{salv.http_port}"
    clients = [
        PhoneClient(url, f"agent{i}", PASSWORD, mic=mic, heard=work / f"heard{i}.wav") for i in range(n)
    ]
    try:
        for c in clients:
            assert c.open() == 101
        idle = rss_mb(pid)
        cpu0 = proc_cpu_s(pid)
        for c in clients:
            c.call(OUTSIDE)
        for c in clients:
            c.wait_state("connected", 60)
        time.sleep(seconds)
        busy = rss_mb(pid)
        for c in clients:
            c.hangup()
        for c in clients:
            c.wait_state("ended", 30)
    finally:
        for c in clients:
            c.close()
    calls = wait_calls(salv, n, lambda c: (c.get("extension") or "").startswith("2"), 120)
    cpu = proc_cpu_s(pid) - cpu0
    minutes = call_minutes(calls)
    return {
        "calls": len(calls),
        "cpu_s": round(cpu, 2),
        "call_minutes": round(minutes, 2),
        "cpu_s_per_call_minute": round(cpu / minutes, 3) if minutes else None,
        "rss_idle_mb": round(idle, 1),
        "rss_busy_mb": round(busy, 1),
        "rss_per_call_mb": round((busy - idle) / n, 2),
    }


def desk_phase(lab: Lab, salv: Salvesti, n: int, seconds: float, audio: Any) -> dict[str, Any]:
    pid = salv.pid
    idle = rss_mb(pid)
    cpu0 = proc_cpu_s(pid)
    phone = lab.sipp(
        "deskphones",
        "phone_uac_invite_auth.xml",
        remote=salv.address,
        service=OUTSIDE,
        calls=n,
        timeout_s=seconds + 90,
        params={
            "USER": "101",
            "PT": 0,
            "CODEC": "PCMU",
            "PCAP": audio.phone_a_ulaw_pcap,
            "TALK_MS": int(seconds * 1000),
        },
        extra=[
            "-au",
            "101",
            "-ap",
            EXTENSIONS["101"][0],
            "-auth_uri",
            f"sip:{OUTSIDE}@{salv.address}",
            "-l",
            str(n),
            "-r",
            str(n),
        ],
    ).start()
    time.sleep(min(seconds / 2 + 4, seconds))
    busy = rss_mb(pid)
    assert phone.wait(seconds + 80) == 0, "the desk phones' calls did not all complete"
    calls = wait_calls(salv, n, lambda c: c.get("extension") == "101", 120)
    cpu = proc_cpu_s(pid) - cpu0
    minutes = call_minutes(calls)
    return {
        "calls": len(calls),
        "cpu_s": round(cpu, 2),
        "call_minutes": round(minutes, 2),
        "cpu_s_per_call_minute": round(cpu / minutes, 3) if minutes else None,
        "rss_idle_mb": round(idle, 1),
        "rss_busy_mb": round(busy, 1),
        "rss_per_call_mb": round((busy - idle) / n, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    n = args.calls
    with tempfile.TemporaryDirectory(prefix="bench-webrtc-") as tmp:
        work = Path(tmp)
        audio = make_audio_set(work / "audio")
        lab = Lab(work, audio)
        try:
            carrier = lab.provider("answer", timeout_s=args.seconds * 4 + 300)
            low, high = PORTS.block(max(2 * n, 20))
            exts = ", ".join(f'"{200 + i}"' for i in range(n))
            browser = (
                f'  - {{platform: webrtc, id: browser, extensions: [{exts}], rtc_ports: "{low}-{high}"}}\n'
            )
            salv = lab.salvesti(trunk=carrier, more_sources=browser, rtp_ports=max(8 * n, 40), timeout_s=3600)
            for i in range(n):
                res = salv.cli(
                    "users",
                    "add",
                    f"agent{i}",
                    "--role",
                    "agent",
                    "--extension",
                    str(200 + i),
                    "-c",
                    str(salv.config_path),
                    input_=PASSWORD.encode() + b"\n",
                )
                assert res.returncode == 0, res.stderr.decode()
            result = {
                "machine": machine(),
                "calls": n,
                "talk_s": args.seconds,
                "browser": browser_phase(salv, n, args.seconds, work, audio.phone_a),
                "desk_g711": desk_phase(lab, salv, n, args.seconds, audio),
            }
        finally:
            lab.close()
    b, d = result["browser"], result["desk_g711"]
    print(f"{n} concurrent calls, {args.seconds:.0f} s talk each, one salvesti run")
    print(f"{'':24}{'browser (Opus, SRTP)':>22}{'desk phone (G.711)':>22}")
    for key, label in (
        ("cpu_s_per_call_minute", "CPU s per call-minute"),
        ("rss_per_call_mb", "memory per call (MB)"),
        ("cpu_s", "CPU s in the phase"),
        ("call_minutes", "call-minutes"),
    ):
        print(f"{label:24}{b[key]!s:>22}{d[key]!s:>22}")
    if b["cpu_s_per_call_minute"] and d["cpu_s_per_call_minute"]:
        ratio = b["cpu_s_per_call_minute"] / d["cpu_s_per_call_minute"]
        print(f"browser / desk CPU per call-minute: {ratio:.1f}x")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
