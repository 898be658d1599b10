"""Plugin commands through ``register_commands``; a broken plugin costs only its own commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from salvesti import __version__
from salvesti.cli import build_parser
from salvesti.core.plugins import PluginManager, hookimpl


class GreetPlugin:
    @hookimpl
    def register_commands(self, subparsers):
        greet = subparsers.add_parser("greet", help="say hello")
        greet.add_argument("name")
        greet.set_defaults(func=lambda args: print(f"hello {args.name}") or 0)


class BrokenPlugin:
    @hookimpl
    def register_commands(self, subparsers):
        raise RuntimeError("missing dependency")


def test_plugin_commands_are_added_and_a_broken_plugin_is_only_warned_about(capsys):
    plugins = PluginManager()
    plugins.load(entry_points_too=False, extra=[GreetPlugin(), BrokenPlugin()])
    parser = build_parser(plugins)
    err = capsys.readouterr().err
    assert "commands not added: missing dependency" in err
    args = parser.parse_args(["greet", "Mari"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == "hello Mari\n"


def test_python_dash_m_and_version():
    python = str(Path(sys.executable))
    result = subprocess.run(
        [python, "-m", "salvesti", "--version"], capture_output=True, text=True, timeout=30
    )
    assert (result.returncode, result.stdout) == (0, f"salvesti {__version__}\n")
    bare = subprocess.run([python, "-m", "salvesti"], capture_output=True, text=True, timeout=30)
    assert bare.returncode == 2 and bare.stderr.startswith("usage: salvesti")
