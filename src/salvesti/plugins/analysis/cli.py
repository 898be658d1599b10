"""``salvesti analysis run|status``: work through a backlog, see the queue.

``run`` works on the database directly, beside a running ``salvesti run`` or without one:
jobs are claimed in a transaction, so the two never analyse a call twice.  It queues what
``--since``/``--call`` select (calls already analysed are skipped unless named by ``--call``),
then works every due job with a progress bar on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import Any

from salvesti.core.components import CallQuery


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return "[" + "#" * filled + "." * (width - filled) + "]"


def cmd_run(args: argparse.Namespace) -> int:
    from salvesti.cli_common import CommandError, bare_hub, load, open_store, setup_component

    loaded = load(args)
    conf = loaded.config.get("analysis")
    if not conf:
        raise CommandError("analysis is off: the config has no 'analysis:' block")
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            raise CommandError(f"--since: not an ISO 8601 time: {args.since!r}", 2) from None

    async def main() -> int:
        from salvesti.plugins.analysis.engine import make_runner
        from salvesti.plugins.analysis.models import ModelNotFound

        hub = bare_hub(loaded)
        async with open_store(loaded, hub) as store:
            for item in loaded.config.get("notices") or []:
                hub.notices[item["id"]] = await setup_component(hub, "notice", item)
            runner = make_runner(hub, conf)
            await runner.release_stale()
            queued = 0
            if args.call:
                call = await store.get_call(args.call)
                if call is None:
                    raise CommandError(f"no call {args.call!r}")
                if not runner.wants(call):
                    raise CommandError(f"call {args.call} has no recording on an analysed line")
                queued += await runner.enqueue(call, force=True)
            else:
                calls = await store.list_calls(CallQuery(since=since, limit=0))
                for call in calls:
                    queued += await runner.enqueue(call, force=False)
                if args.retry_failed:
                    queued += await store.analysis.requeue_failed()
            summary = await store.analysis.queue_summary()
            total = summary["counts"]["queued"]
            print(f"{queued} call(s) queued now; {total} waiting in the queue", file=sys.stderr)

            def show(p: Any) -> None:
                handled = p.done + p.failed
                line = f"\r{_bar(handled, total)} {handled}/{total} analysed, {p.failed} failed"
                if p.retrying:
                    line += f", {p.retrying} to retry"
                print(line, end="", file=sys.stderr, flush=True)

            try:
                progress = await runner.drain(show)
            except ModelNotFound as err:
                raise CommandError(f"analysis.transcription.model: {err}") from None
            finally:
                runner.close()
                await runner.requeue_inflight()
            print(file=sys.stderr)
            later = (await store.analysis.queue_summary())["counts"]["queued"]
            print(
                f"{progress.done} analysed, {progress.failed} failed"
                + (f", {later} waiting for a retry" if later else ""),
                file=sys.stderr,
            )
            return 1 if progress.failed else 0

    return asyncio.run(main())


def cmd_status(args: argparse.Namespace) -> int:
    from salvesti.cli_common import load, open_store

    loaded = load(args)

    async def main() -> int:
        async with open_store(loaded) as store:
            summary: dict[str, Any] = {**await store.analysis.queue_summary()}
        summary["enabled"] = bool(loaded.config.get("analysis"))
        if args.json:
            print(json.dumps(summary, indent=2))
            return 0
        counts = summary["counts"]
        print("analysis: " + ("on" if summary["enabled"] else "off (no 'analysis:' block)"))
        print("  " + "  ".join(f"{k}: {v}" for k, v in counts.items()))
        if summary["retrying"]:
            print(f"  waiting for a retry: {summary['retrying']}")
        if summary["oldest_queued"]:
            print(f"  oldest queued since: {summary['oldest_queued']}")
        for item in summary["failures"]:
            print(f"  failed {item['call_id']} after {item['attempts']} attempt(s): {item['error']}")
        return 0

    return asyncio.run(main())


def add_commands(subparsers: Any) -> None:
    from salvesti.cli_common import add_config_argument

    group = subparsers.add_parser("analysis", help="after-call analysis: backlog and queue").add_subparsers(
        dest="analysis_cmd", required=True
    )
    p = group.add_parser("run", help="analyse queued calls (and --since/--call), with a progress bar")
    add_config_argument(p)
    p.add_argument("--since", help="also queue calls started since this ISO 8601 time")
    p.add_argument("--call", help="analyse this call (again)")
    p.add_argument("--retry-failed", action="store_true", help="queue failed jobs again")
    p.set_defaults(func=cmd_run)
    p = group.add_parser("status", help="the analysis queue")
    add_config_argument(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
