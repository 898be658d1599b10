"""The ``salvesti`` command line (CONTRACT.md "Command line").

Built-in commands live here and in ``cli_calls`` / ``cli_run``; plugins add theirs through
the ``register_commands`` hook.  Every command returns an exit code: 0 ok, 1 failed,
2 bad usage or an invalid config (one ``FILE:LINE: key: message`` line per problem).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from salvesti import __version__
from salvesti.cli_common import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, CommandError, add_config_argument, load
from salvesti.core.plugins import PluginManager


def cmd_check_config(args: argparse.Namespace) -> int:
    load(args)
    print(f"{args.config}: configuration is valid")
    return EXIT_OK


def cmd_plugins_list(args: argparse.Namespace) -> int:
    plugins: PluginManager = args.plugins
    rows = sorted(plugins.describe(), key=lambda p: (not p["builtin"], p["name"]))
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for row in rows:
        kind = "built-in" if row["builtin"] else "third-party"
        print(f"{row['name']} {row['version']} ({kind})")
        print(f"  platforms: {', '.join(row['platforms']) or '-'}")
        print(f"  hooks:     {', '.join(row['hooks']) or '-'}")
    for problem in plugins.load_errors:
        print(f"not loaded: {problem}")
    return EXIT_OK


def build_parser(plugins: PluginManager) -> argparse.ArgumentParser:
    from salvesti import cli_backup, cli_calls, cli_keys, cli_privacy, cli_run, cli_store
    from salvesti.setup import cli as cli_setup

    parser = argparse.ArgumentParser(
        prog="salvesti", description="Self-hosted call recording for SIP trunks, analog and GSM lines."
    )
    parser.add_argument("--version", action="version", version=f"salvesti {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run in the foreground until SIGINT/SIGTERM")
    add_config_argument(run)
    run.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"], help="default: info"
    )
    run.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="text, or one JSON object per line (default: salvesti.log_format)",
    )
    cli_setup.add_listen_argument(run, "--setup-listen")  # used only when FILE does not exist
    run.set_defaults(func=cli_run.cmd_run)

    check = sub.add_parser("check-config", help="validate the configuration (exit 2 when invalid)")
    add_config_argument(check)
    check.set_defaults(func=cmd_check_config)

    cli_setup.add_commands(sub)
    cli_calls.add_commands(sub)
    cli_run.add_retention_commands(sub)
    cli_keys.add_commands(sub)
    cli_backup.add_commands(sub)
    cli_privacy.add_commands(sub)
    cli_store.add_commands(sub)

    plist = sub.add_parser("plugins", help="plugins found").add_subparsers(
        dest="plugins_command", metavar="ACTION"
    )
    lst = plist.add_parser("list", help="built-in and third-party plugins, versions, hooks, platforms")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=cmd_plugins_list)

    _plugin_commands(plugins, sub)
    return parser


def _plugin_commands(plugins: PluginManager, sub: Any) -> None:
    """Let each plugin add commands; one plugin's failure costs only its own commands."""
    for impl in plugins.hook.register_commands.get_hookimpls():
        try:
            impl.function(subparsers=sub)
        except Exception as err:
            print(f"warning: plugin {impl.plugin_name}: commands not added: {err}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``salvesti`` console script."""
    from salvesti.cli_common import load_plugins

    try:
        plugins = load_plugins()
    except Exception as err:
        print(f"error: plugins could not be loaded: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED
    parser = build_parser(plugins)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    args.plugins = plugins
    try:
        return int(func(args) or 0)
    except CommandError as err:
        print(str(err), file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `salvesti calls list | head`
        return EXIT_OK
