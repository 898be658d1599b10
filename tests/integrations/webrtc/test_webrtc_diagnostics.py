"""What the webrtc source tells the diagnostics page: an extension counts as registered while
one of its tabs is alive (heartbeat within the timeout), on a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from salvesti.integrations.webrtc.diagnostics import source_diagnostics
from salvesti.integrations.webrtc.schema import SCHEMA
from salvesti.integrations.webrtc.source import WebRtcSource

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Tallinn"))


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_live_tab_registers_its_extension_until_its_heartbeat_expires() -> None:
    clock = Clock()
    conf = SCHEMA({"platform": "webrtc", "id": "browser", "extensions": ["103", "104"]})
    source = WebRtcSource(None, conf, clock=clock)
    tab = source.open_tab(
        user="kati", extension="103", send=lambda m: None, page_host="127.0.0.1", client="10.0.0.5"
    )
    tab.active = True  # the tab said hello

    clock.t += 10
    facts = source_diagnostics(source, now=NOW, mono=clock())
    assert (facts.source, facts.platform) == ("browser", "webrtc")
    by_user = {e.user: e for e in facts.extensions}
    assert by_user["103"].kind == "webrtc" and not by_user["104"].registered
    (contact,) = by_user["103"].contacts
    assert (contact.address, contact.transport, contact.user) == (("10.0.0.5", 0), "webrtc", "kati")
    assert contact.expires_at == NOW + timedelta(seconds=source.heartbeat_timeout - 10)
    assert facts.media is not None and (facts.media.low, facts.media.high) == (20000, 20199)

    clock.t += source.heartbeat_timeout  # no heartbeat since: the tab no longer counts
    assert not source_diagnostics(source, now=NOW, mono=clock()).extensions[0].registered
