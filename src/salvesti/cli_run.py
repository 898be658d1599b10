"""``salvesti run`` (the foreground service) and ``salvesti retention sweep``.

``run`` builds the hub from the validated config, holds the data folder's lock
(:mod:`salvesti.core.datalock`, so a restore cannot run under it), starts the hub, sweeps
retention at start and hourly, and on SIGINT/SIGTERM stops in stages (intake, calls, recordings, unload) so
every recording in progress is finalised before the process exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import socket
from typing import Any

from salvesti.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    Loaded,
    add_config_argument,
    bare_hub,
    load,
    open_store,
    setup_component,
)
from salvesti.core import retention
from salvesti.core.logformat import setup_logging

_LOGGER = logging.getLogger("salvesti")


def cmd_run(args: argparse.Namespace) -> int:
    if not args.config.exists():  # first run: the setup page writes it, then we go on
        from salvesti.setup.cli import run_setup
        from salvesti.setup.server import DEFAULT_LISTEN

        code = run_setup(
            args.config, getattr(args, "setup_listen", DEFAULT_LISTEN), args.plugins, then_run=True
        )
        if code != EXIT_OK:
            return code
    loaded = load(args)
    core = loaded.config["salvesti"]
    log_format = args.log_format or core.get("log_format", "text")
    setup_logging(args.log_level, log_format, node=core.get("node") or socket.gethostname())
    choice = loaded.config["salvesti"].get("event_loop", "auto")
    if choice in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                _LOGGER.error(
                    "salvesti.event_loop is uvloop, but uvloop is not installed: pip install uvloop"
                )
                return EXIT_FAILED
        else:
            return uvloop.run(run(loaded))
    return asyncio.run(run(loaded))


async def run(loaded: Loaded) -> int:
    """Start the hub, wait for SIGINT/SIGTERM, stop it; the process's exit code."""
    from salvesti.core.datalock import DataDirBusy, hold_for_run
    from salvesti.core.hub import Hub

    hub = Hub(loaded.config, config_path=loaded.path.resolve(), plugins=loaded.plugins, marks=loaded.marks)
    try:
        # held until the process ends: `salvesti restore` refuses while it is held
        data_lock = hold_for_run(hub.data_dir)
    except DataDirBusy as err:
        _LOGGER.error("could not start: %s", err)
        return EXIT_FAILED
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            _LOGGER.warning("already stopping; finishing recordings first")
            return
        _LOGGER.info("%s received, stopping", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        try:
            await hub.async_start()
        except Exception as err:
            _LOGGER.error("could not start: %s", err)
            await hub.async_stop(call_timeout=0)
            return EXIT_FAILED
        _LOGGER.info(
            "running with %s (data in %s, %s event loop)",
            loaded.path,
            hub.data_dir,
            type(loop).__module__.split(".")[0],
        )
        await stop.wait()
        await hub.async_stop()
        _LOGGER.info("stopped")
        return EXIT_OK
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        data_lock.release()


# -- retention sweep ---------------------------------------------------------------------------
def add_retention_commands(sub: Any) -> None:
    ret = sub.add_parser("retention", help="retention of recordings").add_subparsers(
        dest="retention_command", metavar="ACTION"
    )
    sweep = ret.add_parser("sweep", help="delete recordings whose retention has passed, now")
    add_config_argument(sweep)
    sweep.add_argument("--dry-run", action="store_true", help="only print what would be deleted")
    sweep.add_argument("--json", action="store_true", help="print a JSON array of deletions")
    sweep.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    loaded = load(args)
    setup_logging("warning")
    deletions = asyncio.run(_sweep(loaded, args.dry_run))
    if args.json:
        print(json.dumps([d.to_json() for d in deletions], ensure_ascii=False, indent=2))
    else:
        verb = "would delete" if args.dry_run else "deleted"
        for d in deletions:
            what = verb if d.error is None else "FAILED"
            call = d.call
            who = (call.remote_number or "-") if call else "-"
            started = call.started_at.isoformat(timespec="seconds") if call else "-"
            tail = f"  ({d.error})" if d.error else ""
            print(f"{what}  {d.call_id}  {started}  {who}  rule={d.rule}  {d.path or '-'}{tail}")
        count = sum(1 for d in deletions if d.error is None)
        noun = "recording" if count == 1 else "recordings"
        if args.dry_run:
            print(f"{count} {noun} would be deleted (dry run, nothing changed)")
        else:
            print(f"{count} {noun} deleted")
    return EXIT_FAILED if any(d.error for d in deletions) else EXIT_OK


async def _sweep(loaded: Loaded, dry_run: bool) -> list[retention.Deletion]:
    """Open the store, the sinks and the rules (no sources), sweep once, close them."""
    hub = bare_hub(loaded)
    async with open_store(loaded, hub):
        opened: list[Any] = []
        try:
            for conf in loaded.config["sinks"]:
                hub.sinks[conf["id"]] = await setup_component(hub, "sink", conf)
                opened.append(hub.sinks[conf["id"]])
            for conf in loaded.config["retention"]:
                rule = await setup_component(hub, "retention", conf)
                hub.retention_rules.append(rule)
                opened.append(rule)
            return await retention.sweep(hub, hub.now(), dry_run=dry_run)
        finally:
            for component in reversed(opened):
                await component.async_unload()
