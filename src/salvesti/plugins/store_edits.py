"""What users may edit on a stored call, applied the same way by every store backend.

``UNSET`` means "leave this field as it is" (``None`` clears the outcome).  Both stores call
:func:`apply_edits` inside their own locked transaction, so the rules (tags trimmed and
deduplicated in order, empty notes as ``""``) cannot drift between SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from salvesti.core.call import Call


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "Leave this field as it is" for ``update_call_fields`` (None clears).
UNSET: Any = _Unset()


def apply_edits(
    call: Call,
    *,
    outcome: str | None = UNSET,
    tags: list[str] = UNSET,
    notes: str = UNSET,
    legal_hold: bool = UNSET,
) -> Call:
    """Change the given fields of ``call`` in place and return it."""
    if outcome is not UNSET:
        call.outcome = outcome
    if tags is not UNSET:
        call.tags = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
    if notes is not UNSET:
        call.notes = notes or ""
    if legal_hold is not UNSET:
        call.retention.legal_hold = bool(legal_hold)
    return call
