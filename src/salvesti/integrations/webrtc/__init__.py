"""The ``webrtc`` call source: a softphone in the browser tab, aiortc as the box's media end.

Modules, one job each: ``schema`` (config), ``signalling`` (the page's JSON messages and
the tab's state machine, sans-IO), ``ice`` (candidate addresses and the UDP port range),
``peer`` (one call's peer connection and audio), ``source`` (the component: tabs, ringing,
calling out).  The page and its WebSocket live in the web UI (``plugins/http``).
"""

from __future__ import annotations

from salvesti.core.plugins import Platform, hookimpl
from salvesti.integrations.webrtc.schema import SCHEMA, check_config


def _factory(hub, conf):  # type: ignore[no-untyped-def]
    from salvesti.integrations.webrtc.source import WebRtcSource

    return WebRtcSource(hub, conf)


@hookimpl
def register_call_sources(register) -> None:  # type: ignore[no-untyped-def]
    register(
        Platform(
            kind="source",
            name="webrtc",
            schema=SCHEMA,
            factory=_factory,
            description="A softphone in the browser (the web UI's /phone page), bridged like a desk phone",
            extra={"check": check_config},
        )
    )
