"""``salvesti calls list|show``: read calls from the store, as a table or as JSON.

They open only the store (WAL, busy timeout), so they work while ``salvesti run`` is
recording in another process.  With ``--json`` stdout holds JSON and nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from salvesti.cli_common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    add_config_argument,
    load,
    open_store,
)
from salvesti.core.call import Call
from salvesti.core.components import CallQuery

DIRECTIONS = ("inbound", "outbound", "internal")


def add_commands(sub: Any) -> None:
    calls = sub.add_parser("calls", help="list and show recorded calls").add_subparsers(
        dest="calls_command", metavar="ACTION"
    )
    lst = calls.add_parser("list", help="calls, newest first")
    add_config_argument(lst)
    lst.add_argument(
        "--since", metavar="ISO", help="calls started at or after (e.g. 2026-11-29 or ...T08:00+02:00)"
    )
    lst.add_argument("--until", metavar="ISO", help="calls started before")
    lst.add_argument("--number", metavar="N", help="remote number; any part of its digits matches")
    lst.add_argument("--direction", choices=DIRECTIONS)
    lst.add_argument("--line", metavar="NUMBER")
    lst.add_argument("--extension", metavar="EXT")
    lst.add_argument("--outcome")
    lst.add_argument("--tag")
    lst.add_argument("-q", "--search", metavar="TEXT", help="free text: number, notes, tags, outcome, id")
    lst.add_argument("--limit", type=int, default=1000, help="at most this many (0 = all; default 1000)")
    lst.add_argument("--json", action="store_true", help="print a JSON array of call objects")
    lst.set_defaults(func=cmd_list)

    show = calls.add_parser("show", help="one call")
    show.add_argument("id", metavar="ID")
    add_config_argument(show)
    show.add_argument("--json", action="store_true", help="print the call object as JSON")
    show.set_defaults(func=cmd_show)


def parse_time(value: str | None, option: str, tz: tzinfo) -> datetime | None:
    """An ISO 8601 date or time; without an offset it is read in the configured timezone."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"{option}: expected an ISO 8601 date or time, e.g. 2026-11-29 or 2026-11-29T08:00:00+02:00",
            EXIT_CONFIG,
        ) from None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=tz)


def _tz(config: dict[str, Any]) -> tzinfo:
    return ZoneInfo(config["salvesti"].get("timezone") or "UTC")


def cmd_list(args: argparse.Namespace) -> int:
    loaded = load(args)
    tz = _tz(loaded.config)
    query = CallQuery(
        since=parse_time(args.since, "--since", tz),
        until=parse_time(args.until, "--until", tz),
        number=args.number,
        direction=args.direction,
        line=args.line,
        extension=args.extension,
        outcome=args.outcome,
        tag=args.tag,
        q=args.search,
        limit=max(args.limit, 0),
    )

    async def fetch() -> list[Call]:
        async with open_store(loaded) as store:
            return await store.list_calls(query)

    calls = asyncio.run(fetch())
    if args.json:
        print(json.dumps([c.to_json() for c in calls], ensure_ascii=False, indent=2))
    else:
        print(format_table(calls, tz))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    loaded = load(args)

    async def fetch() -> Call | None:
        async with open_store(loaded) as store:
            return await store.get_call(args.id)

    call = asyncio.run(fetch())
    if call is None:
        raise CommandError(f"call {args.id!r} not found", EXIT_FAILED)
    if args.json:
        print(json.dumps(call.to_json(), ensure_ascii=False, indent=2))
    else:
        print(format_call(call, _tz(loaded.config)))
    return EXIT_OK


# -- human output -----------------------------------------------------------------------------
def _when(dt: datetime | None, tz: tzinfo) -> str:
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if dt else "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    return (
        f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
        if whole >= 3600
        else f"{whole // 60}:{whole % 60:02d}"
    )


def format_table(calls: list[Call], tz: tzinfo) -> str:
    if not calls:
        return "No calls."
    header = ("STARTED", "DIRECTION", "LINE", "REMOTE", "EXT", "TALK", "DISPOSITION", "RECORDING", "ID")
    rows = [header]
    for c in calls:
        status = c.recording.status if c.recording else "-"
        if c.in_progress:
            status = "in progress"
        rows.append(
            (
                _when(c.started_at, tz),
                str(c.direction),
                c.line or "-",
                c.remote_number or "-",
                ",".join(c.extensions) or c.extension or "-",
                _duration(c.duration_s),
                str(c.disposition) if c.disposition else "-",
                status,
                c.id,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.append(f"{len(calls)} call{'s' if len(calls) != 1 else ''}")
    return "\n".join(lines)


def format_call(call: Call, tz: tzinfo) -> str:
    rec = call.recording
    pairs = [
        ("id", call.id),
        ("source", call.source),
        ("direction", str(call.direction)),
        ("line", call.line or "-"),
        ("remote number", call.remote_number or "-"),
        ("extension", ", ".join(call.extensions) or call.extension or "-"),
        ("started", _when(call.started_at, tz)),
        ("answered", _when(call.answered_at, tz)),
        ("ended", _when(call.ended_at, tz)),
        ("talk time", _duration(call.duration_s)),
        ("disposition", str(call.disposition) if call.disposition else "-"),
        ("recording", f"{rec.status}: {rec.path}" if rec else "-"),
    ]
    if rec is not None:
        pairs.append(
            ("  format", f"{rec.format}, {rec.channels} ch, {rec.sample_rate} Hz, {rec.bytes or 0} bytes")
        )
        if rec.sha256:
            pairs.append(("  sha256", rec.sha256))
        if rec.note:
            pairs.append(("  note", rec.note))
    notice = call.notice
    if notice.played:
        cut = "" if notice.complete else " (cut short)"
        told = f"played{cut}: {notice.name or '-'} at {_when(notice.played_at, tz)}"
    else:
        told = f"not played{f' ({notice.waived_reason})' if notice.waived_reason else ''}"
    pairs += [
        ("notice", told),
        (
            "delete after",
            _when(call.retention.delete_after, tz) + (" (legal hold)" if call.retention.legal_hold else ""),
        ),
        ("outcome", call.outcome or "-"),
        ("tags", ", ".join(call.tags) or "-"),
        ("notes", call.notes or "-"),
    ]
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in pairs)
