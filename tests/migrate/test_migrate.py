"""``salvesti store migrate``: a real SQLite box into a real PostgreSQL + SeaweedFS (auth on) cluster."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from box import Box, cli, cluster, cluster_config, make_box, migrate, read_object

from salvesti.cli_store import sides
from salvesti.core.datalock import hold_for_run
from salvesti.migrate.progress import NAME as MARKER
from salvesti.migrate.run import migrate_box
from salvesti.testing.seaweedfs import BUCKET, free_port

pytestmark = pytest.mark.timeout(180)


class Stop(Exception):
    """Raised from the progress callback: the run is cut off there, like a kill."""


def box_hashes(box: Box) -> dict[str, str]:
    import sqlite3

    con = sqlite3.connect(box.db)
    try:
        return dict(con.execute("SELECT name, password_hash FROM http_users"))
    finally:
        con.close()


def test_round_trip_moves_everything_and_a_second_run_adds_nothing(tmp_path, pg_dsn, weed):
    box = make_box(tmp_path / "box")
    target = cluster_config(tmp_path / "cluster", pg_dsn, weed, "rt/")
    code, out, err = migrate(box, target)
    assert code == 0, out + err
    assert "calls: 4 copied, 0 already in the target" in out
    assert "carried as it was" in out

    held = cluster(pg_dsn)
    assert set(held["calls"]) == {c.id for c in box.calls}
    for call in box.calls:
        want, got = call.to_json(), held["calls"][call.id]
        assert got["tags"] == want["tags"] and got["notes"] == want["notes"]
        assert got["outcome"] == want["outcome"] and got["pauses"] == want["pauses"]
        assert got["notice"] == want["notice"] and got["retention"] == want["retention"]
        if call is box.calls[-1]:  # its recording was deleted on the box: nothing to copy
            assert got["recording"] == want["recording"]
            continue
        day = f"{call.started_at:%Y/%m/%d}"
        assert got["recording"]["path"] == f"s3://{BUCKET}/rt/{day}/{call.id}.wav"
        assert {k: v for k, v in got["recording"].items() if k != "path"} == {
            k: v for k, v in want["recording"].items() if k != "path"
        }
        data = asyncio.run(read_object(weed, f"rt/{day}/{call.id}.wav"))
        assert hashlib.sha256(data).hexdigest() == want["recording"]["sha256"]
    assert held["hashes"] == box_hashes(box)  # password hashes as they were: the old passwords work
    assert [(t["user"], t["revoked_at"]) for t in held["tokens"]] == [("mari", None)]
    assert [(d["call_id"], d["rule"]) for d in held["deletions"]] == [(box.calls[-1].id, "default")]
    assert held["verify"].ok and held["verify"].entries == 3  # two user_add, one token_create
    code, out, err = cli("audit", "verify", "-c", str(target))
    assert code == 0 and "3 entries, chain intact" in out, out + err
    assert not (tmp_path / "box" / "data" / MARKER).exists()

    code, out, err = migrate(box, target)
    assert code == 0, out + err
    assert "calls: 0 copied, 4 already in the target" in out
    again = cluster(pg_dsn)
    assert again["calls"] == held["calls"] and len(again["tokens"]) == 1
    assert len(again["deletions"]) == 1 and len(again["audit"]) == 3


@pytest.mark.parametrize("phase, at", [("calls", 2), ("users", 1), ("deletions", 1)])
def test_an_interrupted_run_continues_without_duplicates(tmp_path, pg_dsn, weed, phase, at):
    box = make_box(tmp_path / "box")
    target = cluster_config(tmp_path / "cluster", pg_dsn, weed, f"cut-{phase}/")

    def cut(where: str, n: int) -> None:
        if (where, n) == (phase, at):
            raise Stop

    with pytest.raises(Stop):
        asyncio.run(migrate_box(*sides(box.config, target), dry_run=False, on_item=cut))
    partial = cluster(pg_dsn)
    assert len(partial["calls"]) == (at if phase == "calls" else 4 if phase == "deletions" else 0)

    code, out, err = migrate(box, target)
    assert code == 0, out + err
    held = cluster(pg_dsn)
    assert set(held["calls"]) == {c.id for c in box.calls}
    assert sorted(held["hashes"]) == ["boss", "mari"] and len(held["tokens"]) == 1
    assert len(held["deletions"]) == 1 and len(held["audit"]) == 3 and held["verify"].ok


def test_a_cluster_with_its_own_chain_gets_the_box_appended_and_conflicts_are_reported(
    tmp_path, pg_dsn, weed
):
    box = make_box(tmp_path / "box")
    target = cluster_config(tmp_path / "cluster", pg_dsn, weed, "own/")
    for name in ("boss", "kati"):  # the cluster's own boss: another person, another password
        code, _, err = cli("users", "add", name, "--role", "manager", "-c", str(target), stdin="other pw x\n")
        assert code == 0, err
    code, _, err = cli("tokens", "create", "boss", "-c", str(box.config))  # the box's boss has a token
    assert code == 0, err
    before = cluster(pg_dsn)

    code, out, err = migrate(box, target)
    assert code == 1, out + err
    assert "CONFLICT: user 'boss': the target holds different content; left as it is" in out
    assert "PROBLEM: token 2 of 'boss' not moved: its user conflicts" in out
    assert "appended, each entry marked with its original" in out
    held = cluster(pg_dsn)
    assert held["hashes"]["boss"] == before["hashes"]["boss"]  # never overwritten
    assert held["hashes"]["mari"] == box_hashes(box)["mari"]
    assert [t["user"] for t in held["tokens"]] == ["mari"]  # not the cluster's boss
    assert held["verify"].ok and held["verify"].entries == 6
    marks = [json.loads(r["detail"])["migrated"] for r in held["audit"][2:]]
    assert [(m["node"], m["seq"]) for m in marks] == [("box-a", n) for n in (1, 2, 3, 4)]
    code, out, _ = cli("audit", "verify", "-c", str(target))
    assert code == 0 and "6 entries" in out

    code, out, err = migrate(box, target)  # the conflict is reported again; nothing is doubled
    assert code == 1 and "CONFLICT: user 'boss'" in out
    assert len(cluster(pg_dsn)["audit"]) == 6 and len(cluster(pg_dsn)["tokens"]) == 1


def test_dry_run_counts_and_writes_nothing(tmp_path, pg_dsn, weed):
    box = make_box(tmp_path / "box")
    target = cluster_config(tmp_path / "cluster", pg_dsn, weed, "dry/")
    code, _, err = cli("subject", "request", "export", "+3725550001", "-c", str(box.config))
    assert code == 0, err
    code, out, err = migrate(box, target, "--dry-run")
    assert code == 0, out + err
    assert "note: 1 GDPR subject request(s) (open ones keep their deadline: note them) stay on the box" in out
    assert "dry run: nothing was written" in out
    assert "calls: 4 would copy, 0 already in the target" in out
    assert "users: 2 would copy" in out and "audit: 3 would copy" in out
    held = cluster(pg_dsn)
    assert held["calls"] == {} and held["hashes"] == {} and held["audit"] == []
    day = f"{box.calls[0].started_at:%Y/%m/%d}"
    client = weed.client()
    try:
        assert asyncio.run(client.head_object(f"dry/{day}/{box.calls[0].id}.wav")) is None
    finally:
        asyncio.run(client.close())


def test_refused_while_the_box_is_running(tmp_path, pg_dsn, weed):
    box = make_box(tmp_path / "box", n=1)
    target = cluster_config(tmp_path / "cluster", pg_dsn, weed, "busy/")
    with hold_for_run(tmp_path / "box" / "data"):
        code, _, err = migrate(box, target)
    assert code == 1
    assert "store migrate refused" in err and "salvesti run is using it" in err
    assert cluster(pg_dsn)["calls"] == {}


def test_a_target_that_is_not_postgresql_is_refused_before_anything_is_read(tmp_path):
    box = make_box(tmp_path / "box", n=1)
    code, _, err = migrate(box, box.config)
    assert code == 2 and "store: the target must be a postgresql store" in err


def test_an_object_store_that_does_not_answer_stops_the_run_and_says_so(tmp_path, pg_dsn, weed):
    box = make_box(tmp_path / "box", n=2)
    target = cluster_config(tmp_path / "cluster", pg_dsn, weed, "down/")
    target.write_text(target.read_text().replace(weed.endpoint, f"http://127.0.0.1:{free_port()}"))
    code, out, err = migrate(box, target)
    assert code == 1, out + err
    assert "PROBLEM: stopped: the object store is not answering" in out
    held = cluster(pg_dsn)
    assert held["calls"] == {} and sorted(held["hashes"]) == ["boss", "mari"]
