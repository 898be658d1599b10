"""deploy/salvesti-backup.{service,timer}: commands the CLI accepts, writing only where it must."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from salvesti.cli import build_parser
from salvesti.cli_common import load_plugins

DEPLOY = Path(__file__).parents[1] / "deploy"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    return parser


def test_the_backup_runs_unprivileged_nightly_and_keeps_its_output_private() -> None:
    service = unit("salvesti-backup.service")["Service"]
    assert service["Type"] == "oneshot" and service["User"] == "salvesti" and service["UMask"] == "0077"
    assert service["ProtectSystem"] == "strict" and service["CapabilityBoundingSet"] == ""
    assert set(service["ReadWritePaths"].split()) == {"/var/lib/salvesti", "/var/backups/salvesti"}
    timer = unit("salvesti-backup.timer")["Timer"]
    assert timer["OnCalendar"] == "*-*-* 03:30" and timer["Persistent"] == "true"


@pytest.mark.parametrize("key", ["ExecStart", "ExecStartPost"])
def test_its_commands_are_ones_the_cli_accepts(key: str) -> None:
    argv = shlex.split(unit("salvesti-backup.service")["Service"][key])
    assert argv[0] == "/opt/salvesti/.venv/bin/salvesti"
    args = build_parser(load_plugins()).parse_args(argv[1:])
    assert args.command == "backup"
    if key == "ExecStart":
        assert str(args.config) == "/etc/salvesti/config.yaml" and args.keep == 7
        assert str(args.to) == "/var/backups/salvesti" and args.backup_command is None
    else:
        assert args.backup_command == "verify" and str(args.dir) == "/var/backups/salvesti"
