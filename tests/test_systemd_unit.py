"""deploy/salvesti.service: the hardening the install guide promises, and commands that parse."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from salvesti.cli import build_parser
from salvesti.cli_common import load_plugins

UNIT = Path(__file__).parents[1] / "deploy" / "salvesti.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_the_service_runs_unprivileged_on_a_read_only_system() -> None:
    service = unit()["Service"]
    assert service["User"] == "salvesti" and service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict" and service["ReadWritePaths"] == "/var/lib/salvesti"
    assert service["CapabilityBoundingSet"] == "" and service["UMask"] == "0077"
    assert service["KillSignal"] == "SIGTERM" and service["Restart"] == "on-failure"
    assert "PrivateDevices" not in service  # serial_at needs /dev/ttyUSB*


@pytest.mark.parametrize("key", ["ExecStartPre", "ExecStart"])
def test_its_commands_are_ones_the_cli_accepts(key: str) -> None:
    argv = shlex.split(unit()["Service"][key])
    assert argv[0] == "/opt/salvesti/.venv/bin/salvesti"
    args = build_parser(load_plugins()).parse_args(argv[1:])
    assert str(args.config) == "/etc/salvesti/config.yaml" and args.command in ("run", "check-config")
