"""What users may edit on a stored call, applied the same way by every store backend.

``UNSET`` means "leave this field as it is" (``None`` clears the outcome).  Both stores call
:func:`apply_edits` inside their own locked transaction, so the rules (tags trimmed and
deduplicated in order, empty notes as ``""``) cannot drift between SQLite and PostgreSQL.

Edits are also field-level against whole-call saves.  The node recording a call keeps its own
copy of the call and saves it whole (answered, recording saved, ended); a tag or an outcome set
meanwhile through the API -- on this node or on another one -- is not in that copy.  So each
store keeps every user edit in ``call_edits`` (one row per call and field) and
:meth:`save_call` lays those rows over the call it is given before it writes: neither the
recording node's fields nor the user's edit is lost, and the caller's copy is brought up to
date.  An erasure clears notes and tags through ``update_call_fields``, so the edit rows are
cleared with them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

from salvesti.core.call import Call

T = TypeVar("T")

#: The fields ``update_call_fields`` changes, as they are named in ``call_edits``.
EDITABLE = ("outcome", "tags", "notes", "legal_hold")


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


def edit_rows(call: Call, given: dict[str, Any], edited_at: T) -> list[tuple[str, str, str, T]]:
    """The ``call_edits`` rows (call id, field, JSON value, time) of the fields in ``given``
    that are not ``UNSET``, with their values as they stand on ``call`` after :func:`apply_edits`."""
    current = {
        "outcome": call.outcome,
        "tags": call.tags,
        "notes": call.notes,
        "legal_hold": call.retention.legal_hold,
    }
    return [
        (call.id, f, json.dumps(current[f], ensure_ascii=False), edited_at)
        for f in EDITABLE
        if given.get(f, UNSET) is not UNSET
    ]


def reapply(call: Call, rows: Iterable[tuple[str, str]]) -> Call:
    """Lay the stored edits (field, JSON value) over ``call``; unknown field names are skipped
    (a newer Salvesti may edit more)."""
    values = {field: json.loads(value) for field, value in rows if field in EDITABLE}
    return apply_edits(call, **values)
