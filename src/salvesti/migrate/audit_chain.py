"""The audit log joins the cluster's one chain, and ``salvesti audit verify`` passes afterwards.

Two cases, decided under the cluster's audit lock (the one every node's append takes):

- The target's chain is empty, or is a beginning of this box's chain (an interrupted run
  wrote it): the box's entries are *carried* as they are -- same ``seq``, same hashes -- so
  the cluster's chain *is* the box's chain and every old hash stays checkable.
- The target already has a chain of its own: the box's entries are *appended* to it, each one
  re-linked (new ``seq``, ``prev_hash`` and ``hash``) with the original kept inside its
  ``detail`` as ``{"migrated": {"chain", "node", "seq", "at_hash"}}``: ``chain`` names the box's
  chain (its first entry's hash), ``seq``/``at_hash`` the entry there.  A second run finds them
  by that mark and appends only the rest.  The box's own chain is checked first: a broken one
  is reported and not carried, since carrying it would break the cluster's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from salvesti.migrate.source import AuditRow
from salvesti.plugins.http import audit
from salvesti.plugins.http.db_postgresql import AUDIT_LOCK_KEY

if TYPE_CHECKING:
    import asyncpg

_COLS = ", ".join('"user"' if c == "user" else c for c in audit.COLUMNS)
_BATCH = 500


class BrokenSourceChain(Exception):
    """The box's own audit log does not verify; the message says where."""


@dataclass
class AuditResult:
    mode: str = "none"  # "carried" | "appended" | "none"
    added: int = 0
    same: int = 0


async def _iterate(entries: Sequence[AuditRow]) -> AsyncIterator[tuple[object, ...]]:
    for entry in entries:
        yield entry.values()


async def check_source(entries: Sequence[AuditRow]) -> None:
    result = await audit.verify_rows(_iterate(entries))
    if not result.ok:
        raise BrokenSourceChain(f"the box's audit log is broken at entry {result.first_bad}: {result.reason}")


def _marked(entry: AuditRow, chain: str, node: str) -> str:
    try:
        detail: Any = json.loads(entry.detail)
    except ValueError:
        detail = entry.detail
    if not isinstance(detail, dict):
        detail = {"text": detail}
    mark = {"chain": chain, "node": node, "seq": entry.seq, "at_hash": entry.hash}
    return audit.detail_text({**detail, "migrated": mark})


async def _head(conn: asyncpg.Connection) -> tuple[int, str] | None:
    row = await conn.fetchrow("SELECT seq, hash FROM http_audit ORDER BY seq DESC LIMIT 1")
    return (int(row["seq"]), str(row["hash"])) if row else None


async def _done_seqs(conn: asyncpg.Connection, chain: str, by_seq: dict[int, AuditRow]) -> set[int]:
    """The box's entries the target holds: appended with our mark, or carried as they were
    (a run interrupted while carrying, after which the cluster's nodes appended their own)."""
    found = await conn.fetch(
        "SELECT detail FROM http_audit WHERE detail LIKE $1", f'%"migrated":{{"at_hash"%"chain":"{chain}"%'
    )
    done = {int(json.loads(r["detail"])["migrated"]["seq"]) for r in found}
    carried = await conn.fetch("SELECT seq, hash FROM http_audit WHERE seq <= $1", max(by_seq))
    done.update(int(r["seq"]) for r in carried if r["seq"] in by_seq and by_seq[r["seq"]].hash == r["hash"])
    return done


async def carry(pool: asyncpg.Pool, entries: Sequence[AuditRow], node: str, *, dry_run: bool) -> AuditResult:
    """Bring ``entries`` (the box's whole, verified chain) into the target's chain."""
    out = AuditResult()
    if not entries:
        return out
    await check_source(entries)
    chain = entries[0].hash
    by_seq = {e.seq: e for e in entries}
    first = True
    while True:
        async with pool.acquire() as conn, conn.transaction(isolation="read_committed"):
            await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK_KEY)
            head = await _head(conn)
            ours = head is None or (head[0] in by_seq and by_seq[head[0]].hash == head[1])
            if ours:
                out.mode = "carried"
                done = head[0] if head else 0
                out.same = done if first else out.same
                batch = [e for e in entries if e.seq > done][:_BATCH]
                if batch and not dry_run:
                    marks = ", ".join(f"${i}" for i in range(1, 10))
                    await conn.executemany(
                        f"INSERT INTO http_audit ({_COLS}) VALUES ({marks})", [e.values() for e in batch]
                    )
            else:
                out.mode = "appended"
                seen = await _done_seqs(conn, chain, by_seq)
                out.same = len(seen) if first else out.same
                batch = [e for e in entries if e.seq not in seen][:_BATCH]
                if not dry_run:
                    await _append(conn, head, batch, chain, node)
        out.added += len(batch)
        first = False
        if dry_run or len(batch) < _BATCH:
            if dry_run:
                out.added = len(entries) - out.same
            return out


async def _append(
    conn: asyncpg.Connection, head: tuple[int, str] | None, batch: list[AuditRow], chain: str, node: str
) -> None:
    rows = []
    for e in batch:
        detail = _marked(e, chain, node)
        seq, prev, digest = audit.link(head, e.at, e.user, e.action, e.call_id, e.source_addr, detail)
        rows.append((seq, e.at, e.user, e.action, e.call_id, e.source_addr, detail, prev, digest))
        head = (seq, digest)
    marks = ", ".join(f"${i}" for i in range(1, 10))
    await conn.executemany(f"INSERT INTO http_audit ({_COLS}) VALUES ({marks})", rows)
