"""``salvesti setup [-c FILE] [--listen HOST:PORT]``, and the hand-over ``salvesti run`` uses
when its config file does not exist yet."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from salvesti.cli_common import EXIT_FAILED, EXIT_OK, add_config_argument
from salvesti.core.plugins import PluginManager
from salvesti.setup.admin import database_file
from salvesti.setup.guard import refusal
from salvesti.setup.server import DEFAULT_LISTEN, parse_listen, serve_setup


def add_commands(sub: Any) -> None:
    p = sub.add_parser("setup", help="first-run setup in the browser (writes config.yaml and secrets.yaml)")
    add_config_argument(p)
    add_listen_argument(p, "--listen")
    p.set_defaults(func=cmd_setup)


def add_listen_argument(parser: argparse.ArgumentParser, flag: str) -> None:
    parser.add_argument(
        flag,
        dest="setup_listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where the setup page listens, and only there (default: {DEFAULT_LISTEN})",
    )


def run_setup(config: Path, listen: str, plugins: PluginManager, *, then_run: bool = False) -> int:
    """Refuse or serve the wizard; exit code (0 only when the files were written)."""
    why = refusal(config, database_file(config.parent.resolve()))
    if why is not None:
        print(f"salvesti setup: {why}", file=sys.stderr)
        return EXIT_FAILED
    try:
        parse_listen(listen)
    except ValueError as err:
        print(f"salvesti setup: --listen: {err}", file=sys.stderr)
        return EXIT_FAILED
    try:
        result = asyncio.run(serve_setup(config, listen, plugins))
    except OSError as err:
        print(f"salvesti setup: cannot listen on {listen}: {err}", file=sys.stderr)
        return EXIT_FAILED
    if result is None:
        print("salvesti setup: stopped; nothing was written", file=sys.stderr)
        return EXIT_FAILED
    for path in result["files"]:
        print(f"wrote {path}")
    if result.get("admin_error"):
        print(f"warning: the admin user was not created: {result['admin_error']}", file=sys.stderr)
    else:
        print(f"admin user {result['admin']} created")
    if then_run:
        print("starting Salvesti with the new configuration")
    else:
        print(f"start Salvesti with:  {result['start']}")
    return EXIT_OK


def cmd_setup(args: argparse.Namespace) -> int:
    return run_setup(args.config, args.setup_listen, args.plugins)
