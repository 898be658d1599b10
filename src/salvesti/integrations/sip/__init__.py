"""The ``sip_trunk`` call source: Salvesti as a B2BUA between office phones and a SIP trunk.

Modules, one job each: ``schema`` (config), ``transport`` (UDP/TCP around the sans-IO
transaction layer), ``security`` (digest + lockout), ``registrar`` (phones), ``trunk``
(registration to the carrier), ``routing`` (who calls whom), ``call``/``signalling``
(legs, SDP, sending), ``b2bua`` (event dispatch), ``phases``/``flows`` (the calls),
``source`` (the component), and the media helper's ``media``/``media_leg`` (RTP).
"""

from __future__ import annotations

from typing import Any

from salvesti.core.plugins import Platform, hookimpl
from salvesti.integrations.sip.schema import SCHEMA, check_config


def _factory(hub, conf):  # type: ignore[no-untyped-def]
    from salvesti.integrations.sip.source import SipTrunkSource

    return SipTrunkSource(hub, conf)


@hookimpl
def register_call_sources(register) -> None:  # type: ignore[no-untyped-def]
    register(
        Platform(
            kind="source",
            name="sip_trunk",
            schema=SCHEMA,
            factory=_factory,
            description="Office SIP phones and a SIP trunk, with Salvesti in the media path",
            extra={"check": check_config},
        )
    )


@hookimpl
def register_commands(subparsers: Any) -> None:
    """``salvesti test-call``: the SIP source rings its phones (``core.test_call.TestCaller``)."""
    from salvesti.cli_test_call import add_test_call_command

    add_test_call_command(subparsers)
