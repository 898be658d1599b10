"""What Home Assistant should see, computed from bus events (no I/O).

Kept apart from the MQTT client so the rules that matter to users are plain code: a line is
busy while *any* call on it is up (two parallel calls ending one after the other must not
show the line idle early, the bug users report against fritzbox_callmonitor), a missed call
is an inbound call that ended without being answered, counters reset at local midnight, and
phone numbers are masked unless the config says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: Source entry states that mean "connected" for the connectivity sensor.
_CONNECTED = {"loaded"}


def mask_number(number: str | None) -> str:
    """``+3725551234`` → ``+372*****34``: enough to recognise a caller, too little to dial.

    The last two digits and at most the first four (the country code, roughly) stay visible,
    and at least half of the digits are always hidden.  Short internal extensions (up to four
    digits) are not personal numbers and stay as they are; SIP names keep one letter.
    """
    if not number:
        return "unknown"
    plus = number.startswith("+")
    digits = number[1:] if plus else number
    if not digits.isdigit():
        return number[0] + "***"
    n = len(digits)
    if n <= 4:
        return number
    head = min(4, max(0, n // 2 - 2))
    masked = digits[:head] + "*" * (n - head - 2) + digits[-2:]
    return ("+" if plus else "") + masked


def shown_number(number: str | None, expose: str) -> str | None:
    """The number as ``expose_numbers`` allows: ``full``, ``masked`` or ``none`` (None)."""
    if expose == "none":
        return None
    if expose == "full":
        return number or "unknown"
    return mask_number(number)


def is_missed(call: dict[str, Any]) -> bool:
    """Inbound and ended without a human answer (busy, no answer, cancelled, failed)."""
    return call.get("direction") == "inbound" and call.get("disposition") not in (None, "answered")


@dataclass
class LineState:
    """One line: its calls in progress (id → answered?) and today's counters."""

    line: str
    key: str
    active: dict[str, bool] = field(default_factory=dict)
    calls_today: int = 0
    missed_today: int = 0
    #: Calls in progress whose recording is paused (card data), by id.
    paused: set[str] = field(default_factory=set)

    @property
    def call_state(self) -> str:
        if any(self.active.values()):
            return "talking"
        return "ringing" if self.active else "idle"

    def payload(self) -> dict[str, Any]:
        return {
            "call_active": "ON" if self.active else "OFF",
            "active_calls": len(self.active),
            "call_state": self.call_state,
            "calls_today": self.calls_today,
            "missed_today": self.missed_today,
            "recording_paused": "ON" if self.paused else "OFF",
        }


@dataclass
class Update:
    """What one bus event changed on one line: the line state and what to announce."""

    line: LineState
    new_line: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    last_call: dict[str, Any] | None = None


class CallTracker:
    """Per-line call state and hub diagnostics, fed with the bus events' call objects."""

    def __init__(self, expose: str, today: date, key_of: Any) -> None:
        self.expose = expose
        self.day = today
        self.key_of = key_of
        self.lines: dict[str, LineState] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self.last_purge: str | None = None

    # -- lines -----------------------------------------------------------------------------------
    def add_line(self, line: str) -> tuple[LineState, bool]:
        key = self.key_of(line)
        state = self.lines.get(key)
        if state is not None:
            return state, False
        state = self.lines[key] = LineState(line, key)
        return state, True

    def roll_day(self, today: date) -> list[LineState]:
        """At local midnight the counters start again; returns the lines whose counters reset."""
        if today == self.day:
            return []
        self.day = today
        changed = [s for s in self.lines.values() if s.calls_today or s.missed_today]
        for state in changed:
            state.calls_today = state.missed_today = 0
        return changed

    def seed(self, calls: list[dict[str, Any]]) -> None:
        """Today's counters from the store at start, so a restart does not zero them."""
        for call in calls:
            if not call.get("line"):
                continue
            state, _ = self.add_line(call["line"])
            state.calls_today += 1
            if call.get("ended_at") and is_missed(call):
                state.missed_today += 1

    # -- call events -----------------------------------------------------------------------------
    def started(self, call: dict[str, Any]) -> Update | None:
        update = self._begin(call)
        if update is None:
            return None
        if call["id"] not in update.line.active:
            update.line.active[call["id"]] = call.get("answered_at") is not None
            update.line.calls_today += 1
        kind = "outgoing" if call.get("direction") == "outbound" else "incoming"
        update.events.append(self._event(kind, call))
        return update

    def answered(self, call: dict[str, Any]) -> Update | None:
        update = self._begin(call)
        if update is None:
            return None
        update.line.active[call["id"]] = True
        update.events.append(self._event("answered", call))
        return update

    def refreshed(self, call: dict[str, Any]) -> Update | None:
        """``notice_played``: nothing to announce, but the last call's details moved on."""
        update = self._begin(call)
        if update is not None and call["id"] in update.line.active and call.get("answered_at"):
            update.line.active[call["id"]] = True
        return update

    def ended(self, call: dict[str, Any]) -> Update | None:
        update = self._begin(call)
        if update is None:
            return None
        update.line.active.pop(call["id"], None)
        update.line.paused.discard(call["id"])
        if is_missed(call):
            update.line.missed_today += 1
            update.events.append(self._event("missed", call))
        update.events.append(self._event("ended", call))
        return update

    def pause_changed(self, call_id: str, paused: bool) -> Update | None:
        """``recording_paused``/``resumed`` (they name the call only): its line's switch."""
        for state in self.lines.values():
            if call_id in state.active:
                if paused:
                    state.paused.add(call_id)
                else:
                    state.paused.discard(call_id)
                return Update(state)
        return None

    def recording_saved(self, call: dict[str, Any]) -> Update | None:
        update = self._begin(call, last_call=False)
        if update is None:
            return None
        event = self._event("recording_saved", call)
        recording = call.get("recording") or {}
        event["recording_duration_s"] = recording.get("duration_s")
        update.events.append(event)
        return update

    def recording_unhealthy(self, call: dict[str, Any]) -> Update | None:
        """The health check's reasons and channels; its details may name paths, so they stay home."""
        update = self._begin(call, last_call=False)
        if update is None:
            return None
        event = self._event("recording_unhealthy", call)
        problems = call.get("health") or []
        event["reasons"] = list(dict.fromkeys(p["reason"] for p in problems))
        event["channels"] = list(dict.fromkeys(p["channel"] for p in problems if p.get("channel")))
        update.events.append(event)
        return update

    def _begin(self, call: dict[str, Any], *, last_call: bool = True) -> Update | None:
        line = call.get("line")
        if not line or not call.get("id"):
            return None  # internal calls without a line have no line entities
        state, new = self.add_line(line)
        return Update(state, new, last_call=self._last_call(call) if last_call else None)

    def _event(self, kind: str, call: dict[str, Any]) -> dict[str, Any]:
        event: dict[str, Any] = {
            "event_type": kind,
            "call_id": call["id"],
            "line": call.get("line"),
            "direction": call.get("direction"),
        }
        number = shown_number(call.get("remote_number"), self.expose)
        if number is not None:
            event["number"] = number
        if kind in ("missed", "ended"):
            event["disposition"] = call.get("disposition")
            event["duration_s"] = call.get("duration_s")
        return event

    def _last_call(self, call: dict[str, Any]) -> dict[str, Any]:
        number = shown_number(call.get("remote_number"), self.expose)
        out: dict[str, Any] = {
            "display": number if number is not None else call.get("direction"),
            "call_id": call["id"],
            "line": call.get("line"),
            "direction": call.get("direction"),
            "started_at": call.get("started_at"),
            "answered_at": call.get("answered_at"),
            "ended_at": call.get("ended_at"),
            "duration_s": call.get("duration_s"),
            "disposition": call.get("disposition"),
            "missed": bool(call.get("ended_at")) and is_missed(call),
        }
        if number is not None:
            out["number"] = number
        return out

    # -- hub diagnostics -------------------------------------------------------------------------
    def source_status(self, data: dict[str, Any]) -> None:
        self.sources[str(data.get("id"))] = {
            "state": data.get("state"),
            "reason": data.get("reason"),
            "connected": "ON" if data.get("state") in _CONNECTED else "OFF",
        }

    def purged(self, when: str) -> None:
        self.last_purge = when

    def hub_payload(self) -> dict[str, Any]:
        return {"sources": dict(self.sources), "last_retention_purge": self.last_purge}
