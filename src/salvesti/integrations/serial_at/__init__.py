"""``serial_at``: calls on an analogue or GSM line through a USB device with AT commands.

The device's dialect comes from a profile (``salvesti/hardware/modems/*.yaml``); the
protocol is the sans-IO :mod:`salvesti.core.protocols.at`; this package is the I/O around
them.  See docs/serial-devices.md.
"""

from __future__ import annotations

from typing import Any

from salvesti.core.plugins import Platform, hookimpl

from .schema import SCHEMA, check_config
from .source import SerialAtSource


@hookimpl
def register_call_sources(register: Any) -> None:
    register(
        Platform(
            kind="source",
            name="serial_at",
            schema=SCHEMA,
            factory=SerialAtSource.from_config,
            description="Analogue or GSM line through a USB AT device (V.253 modem, SIMCom, Quectel)",
            extra={"check": check_config},
        )
    )


@hookimpl
def register_commands(subparsers: Any) -> None:
    """``salvesti dial``: the serial source is the one that can dial out (``core.components.Dialer``)."""
    from salvesti.cli_dial import add_dial_command

    add_dial_command(subparsers)
