"""What the ``webrtc`` source tells the diagnostics page (``core.diagnostics``).

A browser extension counts as registered while one of its ``/phone`` tabs is alive (its
last heartbeat is newer than ``heartbeat_timeout``); the tab's expiry is that heartbeat
plus the timeout.  ``now`` (wall clock) and ``mono`` (the source's clock) are given, so
tests pass both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from salvesti.core.diagnostics import ExtensionContact, ExtensionState, MediaPorts, SourceDiagnostics


def source_diagnostics(source: Any, *, now: datetime, mono: float) -> SourceDiagnostics:
    """``source`` is a ``WebRtcSource``."""
    extensions = []
    for user in source.extensions:
        contacts = tuple(
            ExtensionContact(
                address=(tab.client, 0) if tab.client else None,
                transport="webrtc",
                user=tab.user,
                expires_at=now + timedelta(seconds=max(tab.seen + source.heartbeat_timeout - mono, 0.0)),
            )
            for tab in source.tabs
            if tab.extension == user and source.alive(tab)
        )
        extensions.append(ExtensionState(user=user, kind="webrtc", contacts=contacts))
    return SourceDiagnostics(
        source=source.id,
        platform="webrtc",
        extensions=tuple(extensions),
        media=MediaPorts(source.ports.low, source.ports.high, in_use=source.active_calls()),
    )
