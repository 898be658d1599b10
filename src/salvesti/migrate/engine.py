"""The phases of a migration, in an order that keeps the target consistent at every moment.

Users before tokens (a token names its user), calls with their recordings (the object is
uploaded and verified *before* the call pointing at it is saved), the deletion log, the
audit log, then the wrapped keys of encrypted recordings.  Each phase walks the box's items
in key order, skips what the progress marker says is finished, compares the rest with the
target and writes what is missing.  ``on_item`` is called after each item (tests interrupt
a run there, at a chosen point, instead of racing a timer).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from salvesti.core.call import Call
from salvesti.migrate import audit_chain
from salvesti.migrate.datakeys import copy_keys
from salvesti.migrate.progress import Bar, Marker
from salvesti.migrate.recordings import RecordingCopier, RecordingProblem
from salvesti.migrate.source import Items, SourceBox, TokenRow, UserRow
from salvesti.migrate.target import Outcome, PgTarget
from salvesti.plugins.sink_s3.client import S3Error, S3Unavailable

T = TypeVar("T")
OnItem = Callable[[str, int], None]
PHASES = ("users", "tokens", "calls", "deletions", "audit", "data_keys")
_MARK_EVERY = 20


@dataclass
class Counts:
    added: int = 0
    same: int = 0
    conflict: int = 0
    failed: int = 0

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class Report:
    dry_run: bool
    counts: dict[str, Counts] = field(default_factory=lambda: {p: Counts() for p in PHASES})
    conflicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: What stays on the box by design (nothing is lost: the box's file is never changed).
    notes: list[str] = field(default_factory=list)
    audit_mode: str = "none"
    recording_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.conflicts and not self.problems


@dataclass
class Job:
    source: SourceBox
    target: PgTarget
    copier: RecordingCopier | None
    marker: Marker
    bar: Bar
    node: str
    keys: tuple[Path, Path] | None = None  # (the box's keys.db, the target's)
    on_item: OnItem | None = None


async def migrate(job: Job) -> Report:
    """Every phase in order; stops early (saying so) only when the object store stops answering."""
    report = Report(job.target.dry_run)
    strangers: set[str] = set()  # box users whose name the cluster gave to someone else

    async def put_user(user: UserRow) -> Outcome:
        outcome = await job.target.put_user(user)
        if outcome == "conflict":
            strangers.add(user.name)
        return outcome

    async def put_token(token: TokenRow) -> Outcome | None:
        if token.user in strangers:  # never hand a box user's token to the cluster's namesake
            report.problems.append(f"token {token.id} of {token.user!r} not moved: its user conflicts")
            return None
        return await job.target.put_token(token)

    users = job.source.users()
    await _phase(job, report, "users", users, put_user, lambda u: f"user {u.name!r}")
    tokens = job.source.tokens()
    await _phase(job, report, "tokens", tokens, put_token, lambda t: f"token {t.id} of {t.user!r}")
    calls = job.source.calls()
    try:
        await _phase(job, report, "calls", calls, lambda c: _call(job, report, c), lambda c: f"call {c.id}")
    except S3Unavailable as err:
        job.bar.end()
        report.problems.append(f"stopped: the object store is not answering ({err}); run again later")
        return report
    dels = job.source.deletions()
    await _phase(job, report, "deletions", dels, job.target.put_deletion, lambda d: f"deletion {d.key}")
    await _audit(job, report)
    if job.keys is not None:
        for call_id, outcome in copy_keys(*job.keys, dry_run=job.target.dry_run).items():
            report.counts["data_keys"].count(outcome)
            if outcome == "conflict":
                report.conflicts.append(f"data key of call {call_id}: the target's keys.db holds another")
    report.notes.extend(job.source.left_behind())
    if report.ok and not report.dry_run:
        job.marker.finish()
    return report


async def _phase(
    job: Job,
    report: Report,
    phase: str,
    items: Items[T],
    put: Callable[[T], Awaitable[Outcome | None]],
    name: Callable[[T], str],
) -> None:
    counts = report.counts[phase]
    total = len(items)
    start = min(job.marker.get(phase), total)
    counts.same += start
    job.bar.start(phase, total)
    for i, item in enumerate(items.after(start), start=start + 1):
        outcome = await put(item)
        if outcome is None:
            counts.failed += 1
        else:
            counts.count(outcome)
            if outcome == "conflict":
                report.conflicts.append(f"{name(item)}: the target holds different content; left as it is")
        if not report.dry_run and (i % _MARK_EVERY == 0 or i == total) and report.ok:
            job.marker.set(phase, i)
        job.bar.show(phase, i, total)
        if job.on_item is not None:
            job.on_item(phase, i)
    job.bar.end()


async def _call(job: Job, report: Report, call: Call) -> Outcome | None:
    """Copy the recording (if the target lacks the call), then save the call pointing at it."""
    if call.ended_at is None:
        report.problems.append(
            f"call {call.id} never ended (cut off by a crash): start salvesti run on the box once so "
            "it repairs it, stop it, and migrate again"
        )
        return None
    held = await job.target.held_call(call.id)
    moved = Call.from_json(call.to_json())
    rec = moved.recording
    if rec is None or rec.status == "deleted" or not rec.path or rec.path.startswith("s3://"):
        return await job.target.put_call(moved, held)
    if job.copier is None:
        report.problems.append(f"call {call.id}: the target config has no s3 sink for its recording")
        return None
    file = Path(rec.path)
    if held is not None:  # moved by an earlier run: only compare
        rec.path = job.copier.sink.url(job.copier.key(call, file))
        return await job.target.put_call(moved, held)
    try:
        placed = await job.copier.copy(call, file)
    except S3Unavailable:
        raise  # every further call would wait for it too: the engine stops
    except (RecordingProblem, S3Error) as err:
        report.problems.append(f"call {call.id}: recording not copied: {err}")
        return None
    if placed.outcome == "conflict":
        report.conflicts.append(f"call {call.id}: {placed.url} already holds other content; left as it is")
        return None
    report.recording_bytes += placed.bytes
    rec.path = placed.url
    return await job.target.put_call(moved, held)


async def _audit(job: Job, report: Report) -> None:
    entries = job.source.audit()
    job.bar.start("audit", len(entries))
    try:
        result = await audit_chain.carry(job.target.pool, entries, job.node, dry_run=job.target.dry_run)
        job.bar.show("audit", len(entries), len(entries))
    except audit_chain.BrokenSourceChain as err:
        report.problems.append(f"audit log not moved: {err}")
        return
    finally:
        job.bar.end()
    counts = report.counts["audit"]
    counts.added, counts.same = result.added, result.same
    report.audit_mode = result.mode
    if job.on_item is not None:
        job.on_item("audit", len(entries))
