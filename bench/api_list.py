"""Benchmark: listing and filtering 1,000,000 calls through the HTTP API.

    .venv/bin/python bench/api_list.py                    # 1 M calls in a temporary folder
    .venv/bin/python bench/api_list.py --calls 200000 --db /tmp/bench.db --keep
    .venv/bin/python bench/api_list.py --store postgresql   # a scratch database, dropped after

What it does, all on 127.0.0.1:
1. Creates the store (its real migrations and indexes; for PostgreSQL in a scratch database
   on the local server, dropped at the end unless ``--keep``) and fills it with N
   synthetic calls spread over two years: 3 sources, 5 lines, 40 extensions, ~300k distinct
   numbers, outcomes on 30 %, tags on 20 %, notes on 10 %.  Rows go in, in batches,
   in the store's own row format (the call object as JSON plus its filter columns), which is
   what ``save_call`` writes, only without a million Python round trips (``executemany`` on
   SQLite, ``COPY`` on PostgreSQL).
2. Starts the hub with the real ``http`` integration on a free port, creates an admin, a
   manager token and an agent token.
3. Sends each query below ``--repeat`` times (after one warm-up) and reports the server time
   (the ``Server-Timing: app;dur=`` header the server puts on every response, which includes
   authentication and the audit write for searches) and the client round trip: p50, p95, max.

Target (issue 3): p95 <= 50 ms server time for every list/filter query.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from salvesti.core.hub import Hub  # noqa: E402
from salvesti.core.plugins import PluginManager  # noqa: E402
from salvesti.plugins.http import accounts  # noqa: E402
from salvesti.plugins.store_postgresql import PostgresStore, redact_dsn  # noqa: E402
from salvesti.plugins.store_sqlite import SqliteStore  # noqa: E402
from salvesti.testing import postgres  # noqa: E402

TAGS = ["vip", "callback", "price", "complaint", "invoice", "new-customer", "churn", "upsell"]
NOTES = [
    "asked about the invoice",
    "wants a better price",
    "call back on Monday",
    "angry about delivery",
    "interested in the fibre offer",
    "moving to another address",
    "asked for a manager",
]
OUTCOMES = ["won", "lost", "follow_up"]


def time_key(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: The PostgreSQL store's call columns, in the order :func:`synthetic_calls` gives them.
PG_COLUMNS = (
    "id", "source", "direction", "line", "remote_number", "remote_digits", "extension", "started_at",
    "answered_at", "ended_at", "disposition", "outcome", "notes", "legal_hold", "delete_after",
    "recording_status", "data", "updated_at",
)  # fmt: skip


def synthetic_calls(n: int, seed: int = 7) -> Iterator[tuple[list[Any], list[str], str]]:
    """``n`` calls newest first as (the store's call columns with aware datetimes, tags, extension)."""
    rnd = random.Random(seed)
    end = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    span = 2 * 365 * 86400
    sources = ["office", "gsm", "analog"]
    lines = [f"+372600000{i}" for i in range(5)]
    for i in range(n):
        t0 = end - timedelta(seconds=span * (i / n) + rnd.random())
        direction = rnd.choices(["inbound", "outbound", "internal"], [55, 40, 5])[0]
        ext = str(101 + rnd.randrange(40))
        number = f"+3725{rnd.randrange(300000):07d}"
        answered = t0 + timedelta(seconds=rnd.randint(2, 20))
        ended = answered + timedelta(seconds=rnd.randint(5, 900))
        outcome = rnd.choice(OUTCOMES) if rnd.random() < 0.3 else None
        tags = rnd.sample(TAGS, rnd.randint(1, 2)) if rnd.random() < 0.2 else []
        notes = rnd.choice(NOTES) if rnd.random() < 0.1 else ""
        call_id = t0.strftime("%Y%m%dT%H%M%S") + f"-{i:012x}"
        line = rnd.choice(lines)
        source = rnd.choice(sources)
        data = {
            "id": call_id,
            "source": source,
            "direction": direction,
            "line": line,
            "remote_number": number,
            "extension": ext,
            "extensions": [ext],
            "started_at": t0.isoformat(),
            "answered_at": answered.isoformat(),
            "ended_at": ended.isoformat(),
            "duration_s": (ended - answered).total_seconds(),
            "disposition": "answered",
            "recording": {
                "path": f"/var/lib/salvesti/recordings/{t0:%Y/%m/%d}/{call_id}.wav",
                "format": "wav",
                "sample_rate": 8000,
                "channels": 2,
                "duration_s": (ended - answered).total_seconds(),
                "bytes": 1000,
                "sha256": None,
                "status": "saved",
                "note": None,
            },
            "notice": {
                "played": True,
                "name": "et",
                "played_at": answered.isoformat(),
                "complete": True,
                "waived_reason": None,
            },
            "retention": {"delete_after": None, "legal_hold": False, "rule": None},
            "outcome": outcome,
            "tags": tags,
            "notes": notes,
            "meta": {},
        }
        row = [
            call_id, source, direction, line, number, number[1:], ext, t0, answered, ended,
            "answered", outcome, notes, False, None, "saved", json.dumps(data), end,
        ]  # fmt: skip
        yield row, tags, ext


def fill_sqlite(db_path: Path, n: int) -> None:
    """Insert ``n`` calls in the SQLite store's row format, one transaction per batch."""
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    batch_calls: list[tuple[Any, ...]] = []
    batch_tags: list[tuple[str, str]] = []
    batch_ext: list[tuple[str, str, int]] = []
    started = time.perf_counter()
    for i, (row, tags, ext) in enumerate(synthetic_calls(n)):
        row = [time_key(v) if isinstance(v, datetime) else v for v in row]
        row[13] = int(row[13])
        batch_calls.append(tuple(row))
        batch_tags += [(row[0], tag) for tag in tags]
        batch_ext.append((row[0], ext, 0))
        if len(batch_calls) >= 20000 or i == n - 1:
            con.executemany(f"INSERT INTO calls VALUES ({','.join('?' * 18)})", batch_calls)
            con.executemany("INSERT INTO call_tags (call_id, tag) VALUES (?, ?)", batch_tags)
            con.executemany(
                "INSERT INTO call_extensions (call_id, extension, position) VALUES (?, ?, ?)", batch_ext
            )
            con.commit()
            batch_calls, batch_tags, batch_ext = [], [], []
            print(f"\r  {i + 1:>9,} calls  ({time.perf_counter() - started:.0f} s)", end="", flush=True)
    con.execute("ANALYZE")
    con.commit()
    con.close()
    print()


async def fill_postgresql(dsn: str, n: int) -> None:
    """COPY ``n`` calls in the PostgreSQL store's row format, one transaction per batch."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        columns = list(PG_COLUMNS)
        batch_calls: list[tuple[Any, ...]] = []
        batch_tags: list[tuple[str, str]] = []
        batch_ext: list[tuple[str, str, int]] = []
        started = time.perf_counter()
        for i, (row, tags, ext) in enumerate(synthetic_calls(n)):
            batch_calls.append(tuple(row))
            batch_tags += [(row[0], tag) for tag in tags]
            batch_ext.append((row[0], ext, 0))
            if len(batch_calls) >= 20000 or i == n - 1:
                async with conn.transaction():
                    await conn.copy_records_to_table("calls", records=batch_calls, columns=columns)
                    await conn.copy_records_to_table(
                        "call_tags", records=batch_tags, columns=["call_id", "tag"]
                    )
                    await conn.copy_records_to_table(
                        "call_extensions", records=batch_ext, columns=["call_id", "extension", "position"]
                    )
                batch_calls, batch_tags, batch_ext = [], [], []
                print(f"\r  {i + 1:>9,} calls  ({time.perf_counter() - started:.0f} s)", end="", flush=True)
        print()
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def columns_in_order(db_path: Path) -> list[str]:
    con = sqlite3.connect(db_path)
    cols = [r[1] for r in con.execute("PRAGMA table_info(calls)")]
    con.close()
    return cols


QUERIES: list[tuple[str, str, str]] = [
    ("newest 50", "manager", ""),
    ("direction", "manager", "direction=outbound"),
    ("outcome", "manager", "outcome=won"),
    ("tag", "manager", "tag=complaint"),
    ("extension", "manager", "extension=117"),
    ("line", "manager", "line=%2B3726000003"),
    ("number (part)", "manager", "number={number_part}"),
    ("number (full)", "manager", "number={number_full}"),
    ("since/until week", "manager", "since=2025-06-01T00:00:00%2B03:00&until=2025-06-08T00:00:00%2B03:00"),
    ("direction+outcome", "manager", "direction=inbound&outcome=lost"),
    ("tag+extension", "manager", "tag=vip&extension=120"),
    ("q common word", "manager", "q=price"),
    ("q word (1.4 %)", "manager", "q=manager"),
    ("q rare word", "manager", "q=kangaroo"),
    ("q call id part", "manager", "q={id_part}"),
    ("page 3 (cursor)", "manager", "cursor"),
    ("agent own calls", "agent", ""),
    ("agent + outcome", "agent", "outcome=follow_up"),
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(
    url: str, tokens: dict[str, str], repeat: int, sample: dict[str, str]
) -> list[dict[str, Any]]:
    results = []
    async with aiohttp.ClientSession(url) as http:
        for label, who, query in QUERIES:
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            if query == "cursor":
                cursor = None
                for _ in range(2):
                    path = "/api/calls?limit=50" + (f"&cursor={cursor}" if cursor else "")
                    async with http.get(path, headers=headers) as r:
                        cursor = (await r.json())["next_cursor"]
                query = f"cursor={cursor}"
            query = query.format(**sample)
            server, client, rows = [], [], 0
            for i in range(repeat + 1):
                t0 = time.perf_counter()
                async with http.get(f"/api/calls?limit=50&{query}", headers=headers) as r:
                    body = await r.json()
                    assert r.status == 200, body
                elapsed = (time.perf_counter() - t0) * 1000
                if i == 0:
                    continue  # warm-up
                timing = r.headers.get("Server-Timing", "app;dur=0").split("dur=")[1]
                server.append(float(timing))
                client.append(elapsed)
                rows = len(body["calls"])
            results.append(
                {
                    "query": label,
                    "params": query,
                    "rows": rows,
                    "server_p50_ms": round(statistics.median(server), 2),
                    "server_p95_ms": round(pct(server, 95), 2),
                    "server_max_ms": round(max(server), 2),
                    "client_p95_ms": round(pct(client, 95), 2),
                }
            )
            r_ = results[-1]
            print(
                f"  {label:<20} rows {rows:>3}  server p50 {r_['server_p50_ms']:>7.2f}  "
                f"p95 {r_['server_p95_ms']:>7.2f}  max {r_['server_max_ms']:>7.2f}  "
                f"client p95 {r_['client_p95_ms']:>7.2f} ms"
            )
    return results


async def prepare_sqlite(args: argparse.Namespace, folder: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The SQLite store filled to ``--calls``; its store config and sample values for the queries."""
    db_path = Path(args.db) if args.db else folder / "salvesti.db"
    async with SqliteStore(db_path):
        pass  # creates the file with every registered migration
    con = sqlite3.connect(db_path)
    have = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    con.close()
    if have < args.calls:
        print(f"filling {db_path} with {args.calls - have:,} calls")
        if have:
            raise SystemExit("the database has some calls already; use an empty or a full one")
        fill_sqlite(db_path, args.calls)
    else:
        print(f"using {db_path} ({have:,} calls)")
    con = sqlite3.connect(db_path)
    number_full = con.execute(
        "SELECT remote_number FROM calls ORDER BY rowid LIMIT 1 OFFSET 4321"
    ).fetchone()[0]
    id_part = con.execute("SELECT id FROM calls ORDER BY rowid LIMIT 1 OFFSET 98765").fetchone()[0][-9:]
    con.close()
    return {"platform": "sqlite", "path": str(db_path)}, sample_of(number_full, id_part)


async def prepare_postgresql(args: argparse.Namespace, dsn: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The PostgreSQL store filled to ``--calls``; its store config and sample values."""
    import asyncpg

    async with PostgresStore(dsn, pool_size=1):
        pass  # creates the schema with every registered migration
    conn = await asyncpg.connect(dsn)
    have = await conn.fetchval("SELECT count(*) FROM calls")
    await conn.close()
    if have < args.calls:
        if have:
            raise SystemExit("the database has some calls already; use an empty or a full one")
        print(f"filling {redact_dsn(dsn)} with {args.calls:,} calls")
        await fill_postgresql(dsn, args.calls)
    else:
        print(f"using {redact_dsn(dsn)} ({have:,} calls)")
    conn = await asyncpg.connect(dsn)
    ids = await conn.fetch(
        "SELECT id, remote_number FROM calls ORDER BY started_at DESC, id DESC LIMIT 98766"
    )
    await conn.close()
    return {"platform": "postgresql", "dsn": dsn}, sample_of(
        ids[4321]["remote_number"], ids[98765]["id"][-9:]
    )


def sample_of(number_full: str, id_part: str) -> dict[str, str]:
    return {
        "number_full": number_full.replace("+", "%2B"),
        "number_part": number_full[-6:],
        "id_part": id_part,
    }


async def run(args: argparse.Namespace) -> int:
    folder = Path(args.db).parent if args.db else Path(tempfile.mkdtemp(prefix="salvesti-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    scratch = None
    try:
        if args.store == "postgresql":
            if args.dsn:
                dsn = args.dsn
            else:
                dsn = scratch = postgres.create_database("salvesti_bench")
            store_conf, sample = await prepare_postgresql(args, dsn)
        else:
            store_conf, sample = await prepare_sqlite(args, folder)
        return await serve_and_measure(args, folder, store_conf, sample)
    finally:
        if scratch is not None and not args.keep:
            postgres.drop_database(scratch)
        elif scratch is not None:
            print(f"kept {scratch}")


async def serve_and_measure(
    args: argparse.Namespace, folder: Path, store_conf: dict[str, Any], sample: dict[str, str]
) -> int:
    config = {
        "salvesti": {"data_dir": str(folder), "timezone": "Europe/Tallinn", "purpose": "bench"},
        "store": store_conf,
        "http": {"listen": "127.0.0.1:0"},
    }
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    (folder / "config.yaml").touch()
    hub = Hub(config, config_path=folder / "config.yaml", plugins=plugins)
    await hub.async_start()
    try:
        server = hub.integrations["http"]
        now = hub.now().isoformat()
        tokens = {}
        for name, role, ext in (("bench-manager", "manager", None), ("bench-agent", "agent", "117")):
            try:
                await accounts.create_user(server.accounts, name, role, "bench password 123", ext, now)
            except accounts.AccountError:
                pass
            tokens[role] = (await accounts.create_token(server.accounts, name, None, "bench", now))[1]
        print(f"{args.repeat} requests per query, limit 50, server time from Server-Timing:")
        results = await measure(f"http://127.0.0.1:{server.bound_port}", tokens, args.repeat, sample)
    finally:
        await hub.async_stop(call_timeout=0.1)
    return report(args, results, folder)


def report(args: argparse.Namespace, results: list[dict[str, Any]], folder: Path) -> int:
    worst = max(r["server_p95_ms"] for r in results)
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    verdict = "PASS" if worst <= args.target_ms else "FAIL"
    print(f"worst server p95: {worst:.2f} ms (target {args.target_ms} ms): {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps({"calls": args.calls, "results": results}, indent=2))
    if not args.keep and not args.db:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if verdict == "PASS" else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--db", help="sqlite: reuse (or create) this database file")
    parser.add_argument("--dsn", help="postgresql: reuse (or fill) this database instead of a scratch one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--target-ms", type=float, default=50.0)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
