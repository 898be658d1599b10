"""The media (RTP) port range: how full it is, and that the firewall must let it through."""

from __future__ import annotations

from salvesti.core.diagnostics import MediaPorts
from salvesti.plugins.http.diagnostics.check import Check, State

#: Share of the port pairs in use from which the range is reported as nearly full.
NEARLY_FULL = 0.8


def media_check(source: str, platform: str, media: MediaPorts) -> Check:
    details = {
        "source": source,
        "platform": platform,
        "low": media.low,
        "high": media.high,
        "capacity": media.capacity,
        "in_use": media.in_use,
        # Every recorded call through the box holds two pairs: the outside leg and the phone's.
        "calls_possible": media.capacity // 2 if media.capacity is not None else None,
    }

    def result(state: State, advice: str) -> Check:
        return Check(f"media.{source}", "media", state, "diag_media_title", advice, details)

    if platform == "webrtc":
        return result(State.OK, "diag_media_browser")
    if media.capacity is not None and media.in_use is not None:
        if media.capacity == 0 or media.in_use >= media.capacity:
            return result(State.FAIL, "diag_media_full")
        if media.in_use >= NEARLY_FULL * media.capacity or media.capacity < 4:
            return result(State.WARN, "diag_media_nearly_full")
    return result(State.OK, "diag_media_ok")
