"""The call object: one record per call, shared by sources, sinks, the store and the API.

The field names and meanings are fixed by CONTRACT.md ("A call object"); everything a
source learns about a call lands here so that the store, the CLI and the HTTP API all
describe the same thing.  Times are aware datetimes; ``to_json`` renders ISO 8601 with offset.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class Disposition(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass
class RecordingInfo:
    """Where a call's audio lives and how to trust it (sha256 is of the whole file)."""

    path: str
    format: str = "wav"
    sample_rate: int = 8000
    channels: int = 2
    duration_s: float | None = None
    bytes: int | None = None
    sha256: str | None = None
    #: ``recording`` while written, ``saved`` once finalised, ``repaired`` after a crash,
    #: ``failed`` when the sink failed, ``deleted`` after retention or erasure.
    status: str = "recording"
    #: Human note when the source could give only one direction, or a sink error.
    note: str | None = None


@dataclass
class NoticeInfo:
    """Evidence that the outside party was told the call is recorded."""

    played: bool = False
    name: str | None = None
    played_at: datetime | None = None
    #: True when the notice ran to its end; False when the caller hung up during it.
    complete: bool = False
    #: Set when a line is configured without a notice, with the reason given in config.
    waived_reason: str | None = None


@dataclass
class RetentionInfo:
    delete_after: datetime | None = None
    legal_hold: bool = False
    rule: str | None = None


class HealthReason(StrEnum):
    """Why a call's recording is unhealthy (``salvesti.core.health`` decides; also a list filter)."""

    NO_RECORDING = "no_recording"
    SHORT = "recording_short"
    NO_AUDIO = "channel_no_audio"
    SILENT = "channel_silent"
    PACKET_LOSS = "packet_loss"


@dataclass(frozen=True)
class HealthProblem:
    """One broken health rule; ``channel`` (``outside``/``heard``) for the per-channel rules."""

    reason: HealthReason
    detail: str
    channel: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"reason": str(self.reason), "channel": self.channel, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HealthProblem:
        return cls(HealthReason(data["reason"]), str(data.get("detail") or ""), data.get("channel"))


@dataclass
class Pause:
    """A span of the recording blanked on request (card data): seconds from the recording's start.

    ``by`` is who paused (a user name, or how: ``keypad``, ``mqtt``); ``resumed_by`` who or what
    ended it (``auto`` when ``salvesti.pause_max_s`` ran out, ``call_end`` when the call ended
    paused).  ``end_s`` is None while the pause lasts.
    """

    start_s: float
    end_s: float | None = None
    by: str = ""
    resumed_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pause:
        end = data.get("end_s")
        return cls(
            float(data["start_s"]),
            None if end is None else float(end),
            str(data.get("by") or ""),
            data.get("resumed_by"),
        )


def new_call_id(now: datetime) -> str:
    """Sortable, unique call ids: the start time to the second, then random hex."""
    return now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:12]


@dataclass
class Call:
    """One call as CONTRACT.md defines it, plus a few fields the contract allows us to add."""

    id: str
    source: str
    direction: Direction
    line: str | None
    remote_number: str | None
    started_at: datetime
    extension: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    disposition: Disposition | None = None
    recording: RecordingInfo | None = None
    notice: NoticeInfo = field(default_factory=NoticeInfo)
    retention: RetentionInfo = field(default_factory=RetentionInfo)
    outcome: str | None = None
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    #: Every extension that took part (transfers add to it); ``extension`` is the first.
    extensions: list[str] = field(default_factory=list)
    #: Free-form per-source details (SIP Call-IDs, codec, hangup cause, ...).
    meta: dict[str, Any] = field(default_factory=dict)
    #: What the after-call health check found wrong with the recording (empty: healthy).
    health: list[HealthProblem] = field(default_factory=list)
    #: Spans of the recording paused (silence in both channels), in order.
    pauses: list[Pause] = field(default_factory=list)
    #: The ``salvesti.node`` of the process that took the call (several nodes share one store).
    node: str | None = None

    @property
    def duration_s(self) -> float | None:
        """Talk time: ended_at - answered_at (None until the call was answered and ended)."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return round((self.ended_at - self.answered_at).total_seconds(), 3)

    @property
    def in_progress(self) -> bool:
        return self.ended_at is None

    def add_extension(self, ext: str) -> None:
        """Record that an extension took part; the first one becomes ``extension``."""
        if ext not in self.extensions:
            self.extensions.append(ext)
        if self.extension is None:
            self.extension = ext

    def set_delete_after(self, days: int, rule: str) -> None:
        if self.ended_at is not None:
            self.retention.delete_after = self.ended_at + timedelta(days=days)
        self.retention.rule = rule

    def to_json(self) -> dict[str, Any]:
        """The CONTRACT call object as plain JSON types."""

        def iso(dt: datetime | None) -> str | None:
            return dt.isoformat() if dt is not None else None

        rec = asdict(self.recording) if self.recording is not None else None
        return {
            "id": self.id,
            "source": self.source,
            "direction": str(self.direction),
            "line": self.line,
            "remote_number": self.remote_number,
            "extension": self.extension,
            "extensions": list(self.extensions),
            "started_at": iso(self.started_at),
            "answered_at": iso(self.answered_at),
            "ended_at": iso(self.ended_at),
            "duration_s": self.duration_s,
            "disposition": str(self.disposition) if self.disposition else None,
            "recording": rec,
            "notice": {
                "played": self.notice.played,
                "name": self.notice.name,
                "played_at": iso(self.notice.played_at),
                "complete": self.notice.complete,
                "waived_reason": self.notice.waived_reason,
            },
            "retention": {
                "delete_after": iso(self.retention.delete_after),
                "legal_hold": self.retention.legal_hold,
                "rule": self.retention.rule,
            },
            "outcome": self.outcome,
            "tags": list(self.tags),
            "notes": self.notes,
            "meta": dict(self.meta),
            "health": [p.to_json() for p in self.health],
            "pauses": [p.to_json() for p in self.pauses],
            "node": self.node,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Call:
        """Inverse of :meth:`to_json` (used by stores that keep the object as JSON)."""

        def dt(v: str | None) -> datetime | None:
            return datetime.fromisoformat(v) if v else None

        rec = data.get("recording")
        notice = data.get("notice") or {}
        ret = data.get("retention") or {}
        return cls(
            id=data["id"],
            source=data["source"],
            direction=Direction(data["direction"]),
            line=data.get("line"),
            remote_number=data.get("remote_number"),
            extension=data.get("extension"),
            extensions=list(data.get("extensions") or []),
            started_at=dt(data["started_at"]),  # type: ignore[arg-type]
            answered_at=dt(data.get("answered_at")),
            ended_at=dt(data.get("ended_at")),
            disposition=Disposition(data["disposition"]) if data.get("disposition") else None,
            recording=RecordingInfo(**rec) if rec else None,
            notice=NoticeInfo(
                played=bool(notice.get("played")),
                name=notice.get("name"),
                played_at=dt(notice.get("played_at")),
                complete=bool(notice.get("complete")),
                waived_reason=notice.get("waived_reason"),
            ),
            retention=RetentionInfo(
                delete_after=dt(ret.get("delete_after")),
                legal_hold=bool(ret.get("legal_hold")),
                rule=ret.get("rule"),
            ),
            outcome=data.get("outcome"),
            tags=list(data.get("tags") or []),
            notes=data.get("notes") or "",
            meta=dict(data.get("meta") or {}),
            health=[HealthProblem.from_json(p) for p in data.get("health") or []],
            pauses=[Pause.from_json(p) for p in data.get("pauses") or []],
            node=data.get("node"),
        )
