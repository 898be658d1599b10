"""Fuzz: a million inputs or more through the SIP, SDP, RTP/RTCP and AT parsers and the HTTP API.

    nice -n 10 .venv/bin/python bench/fuzz.py                      # the nightly run, 1 M inputs
    .venv/bin/python bench/fuzz.py --inputs 20000 --http 500 --json fuzz.json

Issue 13's "proof under attack": whatever arrives on the SIP port, the RTP ports, the serial
line or the HTTP port, the parsers answer with their own error type and never an exception
or a stall. Seeds are the captured messages the tests keep (see salvesti.testing.fuzz.corpus);
each parser target gets an equal share of ``--inputs`` minus ``--http``, which go as
requests to a live hub's API. Per target it prints inputs, inputs/s, crashes, hangs and the
slowest input; every finding is written under ``--out`` (seed, index, bytes) to replay.
Exit 1 when anything crashed or hung. Deterministic: the same ``--seed`` gives the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from salvesti.testing.fuzz import Report, run_target
from salvesti.testing.fuzz.corpus import at_seeds, rtp_seeds, sdp_seeds, sip_seeds
from salvesti.testing.fuzz.http_box import http_box
from salvesti.testing.fuzz.http_target import run_http
from salvesti.testing.fuzz.targets import parser_targets

TESTS = Path(__file__).resolve().parents[1] / "tests"


async def _http(inputs: int, seed: int, deadline: float) -> Report:
    with tempfile.TemporaryDirectory(prefix="salvesti-fuzz-") as tmp:
        async with http_box(Path(tmp)) as box:
            return await run_http(box, inputs, seed=seed, deadline_s=deadline)


def _save(report: Report, out: Path, seed: int) -> None:
    for finding in [*report.crashes, *report.hangs][:50]:
        path = out / f"{report.target}-{finding.kind}-seed{seed}-{finding.index}.bin"
        path.write_bytes(finding.data)
        print(f"    {finding.kind} #{finding.index}: {finding.error[:200]} -> {path}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=1_000_000, help="inputs in all, HTTP requests included")
    ap.add_argument("--http", type=int, default=20_000, help="of those, requests to the HTTP API")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deadline", type=float, default=1.0, help="seconds one parser input may take")
    ap.add_argument("--http-deadline", type=float, default=10.0, help="seconds one request may take")
    ap.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args(argv)
    # The server logs each malformed request it refuses; thousands of those are noise here.
    logging.basicConfig(level=logging.CRITICAL)
    targets = parser_targets(sip_seeds(TESTS), sdp_seeds(TESTS), rtp_seeds(), at_seeds(TESTS))
    share = max(0, args.inputs - args.http) // len(targets)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    reports = []
    for target in targets:
        reports.append(run_target(target, share, seed=args.seed, deadline_s=args.deadline))
        print(reports[-1].line(), flush=True)
        _save(reports[-1], args.out, args.seed)
    if args.http:
        reports.append(asyncio.run(_http(args.http, args.seed, args.http_deadline)))
        print(reports[-1].line(), flush=True)
        _save(reports[-1], args.out, args.seed)
    total = sum(r.inputs for r in reports)
    bad = sum(len(r.crashes) + len(r.hangs) for r in reports)
    seconds = time.perf_counter() - started
    print(f"total  {total:>9} inputs {seconds:7.1f} s {total / seconds:9.0f}/s  crashes+hangs {bad}")
    if args.json:
        figures = {
            r.target: {
                "inputs": r.inputs,
                "seconds": round(r.seconds, 2),
                "per_second": round(r.rate),
                "crashes": len(r.crashes),
                "hangs": len(r.hangs),
                "slowest_ms": round(r.slowest_ms, 1),
            }
            for r in reports
        }
        figures["total"] = {"inputs": total, "seconds": round(seconds, 1), "findings": bad}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
