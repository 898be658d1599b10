"""One diagnostics check: what was looked at, how it stands and what to do about it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class State(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


_RANK = {State.OK: 0, State.WARN: 1, State.FAIL: 2}


@dataclass(frozen=True)
class Check:
    """``title_key`` and ``advice_key`` are UI string keys; their ``{placeholders}`` are
    filled from ``details`` (plain JSON values: times as ISO 8601 strings)."""

    id: str
    group: str
    state: State
    title_key: str
    advice_key: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "state": str(self.state),
            "title_key": self.title_key,
            "advice_key": self.advice_key,
            "details": self.details,
        }


def located(check: Check, where: str | None) -> Check:
    """The check with ``details.where`` (``config.yaml:12``): the line its setting is written on."""
    return replace(check, details={**check.details, "where": where})


def worst(checks: Iterable[Check]) -> State:
    """The most serious state among ``checks`` (ok when there are none)."""
    return max((c.state for c in checks), key=_RANK.__getitem__, default=State.OK)


def iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def hostport(addr: tuple[str, int] | None) -> str | None:
    if addr is None:
        return None
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
