"""The retention sweep: delete recordings whose time is up, and say so.

A call's ``retention.delete_after`` is set when it ends (first matching rule); the sweep
deletes the recordings past that time through the sink that wrote them, marks them
``deleted``, writes the deletion log and publishes ``recording_deleted``.  Legal hold stops
it.  Calls that ended while no rule matched (or before a rule was added) get the rules
applied again first, so adding a rule later also covers the backlog.

It runs hourly inside ``salvesti run`` (plus once at start) and on demand from
``salvesti retention sweep [--dry-run]``.  Several nodes may sweep one shared store at the same
moment: each call is acted on only under the store's claim (``claim_call``; a ``FOR UPDATE SKIP
LOCKED`` row lock on PostgreSQL), which re-checks it is still due, so each recording is deleted
and logged once, by whichever sweep got it first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from salvesti.core import bus as events
from salvesti.core.call import Call
from salvesti.core.components import CallStore, RecordingSink, RetentionRule

_LOGGER = logging.getLogger(__name__)

SWEEP_INTERVAL = 3600.0


class CallClaim(Protocol):
    """A call one sweep holds until its block ends; no other sweep, on any node, gets it then.

    ``call`` is the call as stored when claimed (not the possibly stale listed copy); the
    writes belong to the claim, so on PostgreSQL they commit with the row lock released.
    """

    call: Call

    async def save(self, call: Call) -> None: ...

    async def log_deletion(self, call: Call, *, rule: str, reason: str, when: datetime) -> None: ...


class RetentionStore(CallStore, Protocol):
    """What the sweep needs from a store beyond :class:`CallStore`."""

    async def calls_due_for_deletion(self, now: datetime) -> list[Call]: ...

    async def calls_without_retention(self) -> list[Call]: ...

    def claim_call(
        self, call_id: str, still: Callable[[Call], bool]
    ) -> AbstractAsyncContextManager[CallClaim | None]: ...


@runtime_checkable
class RecordingAges(Protocol):
    """A store that can say, per retention rule, when its oldest kept recording's call ended.

    ``/metrics`` compares that with the rule's days: a recording older than its rule means the
    sweep is not doing its job (stopped, failing, or a rule was shortened without a sweep).
    """

    async def oldest_recordings(self) -> dict[str, datetime]:
        """Rule id → the earliest ``ended_at`` (aware) of a call with a kept recording under it."""
        ...


@dataclass
class SweepParts:
    """The pieces a sweep works with, for callers that have no running hub."""

    store: RetentionStore
    sinks: dict[str, RecordingSink] = field(default_factory=dict)
    rules: list[RetentionRule] = field(default_factory=list)
    bus: Any = None


@dataclass
class Deletion:
    """One recording the sweep deleted (or, in a dry run, would delete)."""

    call_id: str
    path: str | None
    rule: str
    reason: str
    delete_after: datetime | None
    deleted: bool
    error: str | None = None
    call: Call | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "path": self.path,
            "rule": self.rule,
            "reason": self.reason,
            "delete_after": self.delete_after.isoformat() if self.delete_after else None,
            "deleted": self.deleted,
            "error": self.error,
        }


def _parts(target: Any) -> SweepParts:
    if isinstance(target, SweepParts):
        return target
    return SweepParts(store=target.store, sinks=target.sinks, rules=target.retention_rules, bus=target.bus)


def first_rule(rules: list[RetentionRule], call: Call) -> RetentionRule | None:
    return next((rule for rule in rules if rule.matches(call)), None)


async def sweep(target: Any, now: datetime, dry_run: bool = False) -> list[Deletion]:
    """Delete every recording past ``delete_after`` (not on legal hold); return what was done.

    ``target`` is a running :class:`~salvesti.core.hub.Hub` or a :class:`SweepParts`.
    With ``dry_run`` nothing changes; the result lists what would be deleted.
    """
    parts = _parts(target)
    store = parts.store
    due: dict[str, Call] = {}
    for call in await store.calls_without_retention():
        rule = first_rule(parts.rules, call)
        if rule is None:
            continue
        if dry_run:
            call.set_delete_after(rule.days, rule.id)
            if call.retention.delete_after is not None and call.retention.delete_after <= now:
                due[call.id] = call
            continue
        # under a claim: another node may have deleted it since the list was read
        async with store.claim_call(call.id, _unruled) as claim:
            if claim is not None:
                claim.call.set_delete_after(rule.days, rule.id)
                await claim.save(claim.call)
    for call in await store.calls_due_for_deletion(now):
        due.setdefault(call.id, call)
    result = []
    for call in sorted(due.values(), key=lambda c: (c.retention.delete_after or now, c.id)):
        if dry_run:
            result.append(_deletion(call))
            continue
        async with store.claim_call(call.id, lambda c: is_due(c, now)) as claim:
            if claim is None:  # another sweep holds it or has deleted it
                continue
            deletion = await _delete_one(parts, claim, now)
        result.append(deletion)
        _announce(parts, deletion)
    if not dry_run and parts.bus is not None and not any(d.error for d in result):
        # "the sweep ran and did all it had to" is what an operator alerts on when it stops
        deleted = sum(d.deleted for d in result)
        parts.bus.publish(events.RETENTION_SWEPT, {"at": now.isoformat(), "deleted": deleted})
    return result


def _has_recording(call: Call) -> bool:
    return call.recording is not None and call.recording.status not in ("deleted", "recording")


def _unruled(call: Call) -> bool:
    """Still what ``calls_without_retention`` lists (no rule applied yet)."""
    return (
        call.ended_at is not None
        and call.retention.delete_after is None
        and not call.retention.legal_hold
        and _has_recording(call)
    )


def is_due(call: Call, now: datetime) -> bool:
    """Still what ``calls_due_for_deletion(now)`` lists: past its time, not held, not deleted."""
    when = call.retention.delete_after
    return when is not None and when <= now and not call.retention.legal_hold and _has_recording(call)


def _deletion(call: Call) -> Deletion:
    rule = call.retention.rule or "unknown"
    when = call.retention.delete_after
    reason = f"kept until {when.isoformat() if when else '?'} by retention rule {rule!r}"
    path = call.recording.path if call.recording is not None else None
    return Deletion(call.id, path, rule, reason, when, deleted=False, call=call)


async def _delete_one(parts: SweepParts, claim: CallClaim, now: datetime) -> Deletion:
    """Delete the claimed call's recording, mark it, log it (all inside the claim)."""
    call = claim.call
    deletion = _deletion(call)
    rule, reason, path = deletion.rule, deletion.reason, deletion.path
    try:
        await _delete_file(parts, call)
    except asyncio.CancelledError:
        raise
    except Exception as err:
        _LOGGER.error("call %s: could not delete %s: %s", call.id, path, err)
        deletion.error = f"{type(err).__name__}: {err}"
        return deletion
    assert call.recording is not None
    call.recording.status = "deleted"
    await claim.save(call)
    await claim.log_deletion(call, rule=rule, reason=reason, when=now)
    deletion.deleted = True
    _LOGGER.info("call %s: recording deleted (%s)", call.id, reason)
    return deletion


def _announce(parts: SweepParts, deletion: Deletion) -> None:
    """``recording_deleted`` once the claim is over (its writes committed)."""
    if deletion.deleted and deletion.call is not None and parts.bus is not None:
        parts.bus.publish(events.RECORDING_DELETED, {**deletion.call.to_json(), "reason": deletion.reason})


async def _delete_file(parts: SweepParts, call: Call) -> None:
    """Through the sink that wrote it; without one, remove the recorded path directly."""
    sink = parts.sinks.get(str(call.meta.get("sink") or "")) or next(iter(parts.sinks.values()), None)
    if sink is not None:
        await sink.delete(call)
        return
    if call.recording is not None and call.recording.path:
        await asyncio.to_thread(Path(call.recording.path).unlink, missing_ok=True)


async def run_schedule(hub: Any, interval: float = SWEEP_INTERVAL) -> None:
    """Sweep once now and then every ``interval`` seconds until cancelled (a hub task)."""
    while True:
        try:
            done = await sweep(hub, hub.now())
            if done:
                _LOGGER.info("sweep: %d recording(s) deleted", sum(d.deleted for d in done))
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("sweep failed; trying again in %.0f s", interval)
        await asyncio.sleep(interval)


def start_schedule(hub: Any, interval: float = SWEEP_INTERVAL) -> asyncio.Task[None] | None:
    """Register the hourly sweep as a hub task (nothing to do without a store)."""
    if hub.store is None:
        return None
    return hub.create_task(run_schedule(hub, interval), name="retention sweep")
