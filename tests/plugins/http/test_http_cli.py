"""The HTTP plugin's commands through the real ``salvesti`` CLI: users, tokens, subject export
and erasure, audit verify (and that it notices tampering)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from http_env import PASSWORD, make_call

from salvesti.cli import main
from salvesti.plugins.store_sqlite import SqliteStore

CONFIG = """\
salvesti:
  data_dir: ./data
  timezone: Europe/Tallinn
  purpose: "Klienditeeninduse kvaliteedi parandamine"
http:
  listen: 127.0.0.1:0
store: {platform: sqlite}
sinks:
  - {platform: local, id: disk, path: data/recordings, format: wav}
"""


def cli_process(tmp: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real console entry point in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "salvesti", *args, "-c", str(tmp / "config.yaml")],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp,
    )


def cli(tmp: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``salvesti.cli.main`` in this process (about a second per command faster than a new process)."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*args, "-c", str(tmp / "config.yaml")])
    finally:
        sys.stdin = old
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def setup_box(tmp: Path) -> list:
    (tmp / "config.yaml").write_text(CONFIG)
    rec = tmp / "data" / "recordings" / "2026" / "11" / "20"

    async def fill() -> list:
        async with SqliteStore(tmp / "data" / "salvesti.db") as store:
            calls = [
                make_call(rec, 1, ext="101", number="+3725551234", notes="price talk"),
                make_call(rec, 2, ext="102", number="+3725551234"),
                make_call(rec, 3, ext="101", number="+37255512345"),  # a longer number: not the subject
            ]
            for c in calls:
                await store.save_call(c)
            return calls

    return asyncio.run(fill())


def test_users_and_tokens(tmp_path):
    setup_box(tmp_path)
    r = cli_process(tmp_path, "users", "add", "boss", "--role", "admin", stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    r = cli(tmp_path, "users", "add", "boss", "--role", "admin", stdin=PASSWORD + "\n")
    assert r.returncode == 1 and "exists" in r.stderr
    r = cli(tmp_path, "users", "add", "weak", "--role", "agent", stdin="short\n")
    assert r.returncode == 1 and "10 characters" in r.stderr
    r = cli(tmp_path, "users", "add", "mari", "--role", "agent", "--extension", "101", stdin=PASSWORD + "\n")
    assert r.returncode == 0
    r = cli(tmp_path, "tokens", "create", "mari", "--role", "manager")
    assert r.returncode == 1 and "cannot be manager" in r.stderr
    r = cli(tmp_path, "tokens", "create", "boss", "--role", "manager")
    assert r.returncode == 0 and r.stdout.startswith("slv_") and len(r.stdout.strip()) > 40
    token = r.stdout.strip()
    con = sqlite3.connect(tmp_path / "data" / "salvesti.db")
    assert con.execute("SELECT count(*) FROM http_tokens WHERE token_hash = ?", (token,)).fetchone()[0] == 0
    con.close()
    r = cli(tmp_path, "tokens", "revoke", "1")
    assert r.returncode == 0
    r = cli(tmp_path, "tokens", "list")
    assert "revoked" in r.stdout


def test_subject_export_and_erase(tmp_path):
    calls = setup_box(tmp_path)
    out = tmp_path / "export"
    r = cli(tmp_path, "subject", "export", "55 51 234", "--out", str(out))
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "calls.json").read_text())
    assert {c["id"] for c in manifest["calls"]} == {calls[0].id, calls[1].id}
    assert manifest["purpose"] == "Klienditeeninduse kvaliteedi parandamine"
    for item in manifest["calls"]:
        copy = out / item["export_file"]
        assert copy.read_bytes() == Path(item["recording"]["path"]).read_bytes()

    # Put one call under legal hold: erasure keeps it and says so.
    con = sqlite3.connect(tmp_path / "data" / "salvesti.db")
    data = json.loads(con.execute("SELECT data FROM calls WHERE id = ?", (calls[1].id,)).fetchone()[0])
    con.close()

    async def hold() -> None:
        async with SqliteStore(tmp_path / "data" / "salvesti.db") as store:
            await store.update_call_fields(calls[1].id, legal_hold=True)

    asyncio.run(hold())
    assert data["remote_number"] == "+3725551234"

    r = cli(tmp_path, "subject", "erase", "+3725551234")
    assert r.returncode == 0 and "would erase: " + calls[0].id in r.stdout
    assert Path(calls[0].recording.path).exists()
    r = cli(tmp_path, "subject", "erase", "+3725551234", "--yes")
    assert r.returncode == 1  # something was kept (legal hold)
    assert f"erased: {calls[0].id}" in r.stdout and f"kept (legal hold): {calls[1].id}" in r.stdout
    assert not Path(calls[0].recording.path).exists()
    assert Path(calls[1].recording.path).exists() and Path(calls[2].recording.path).exists()
    con = sqlite3.connect(tmp_path / "data" / "salvesti.db")
    erased = json.loads(con.execute("SELECT data FROM calls WHERE id = ?", (calls[0].id,)).fetchone()[0])
    assert (
        erased["remote_number"] is None
        and erased["notes"] == ""
        and erased["recording"]["status"] == "deleted"
    )
    rows = con.execute("SELECT action, call_id, detail FROM http_audit ORDER BY seq").fetchall()
    assert [a for a, _c, _d in rows] == ["export", "export", "erase"]
    assert "+3725551234" not in rows[-1][2]  # the audit log keeps a hash, not the number
    assert (
        con.execute("SELECT rule FROM deletions WHERE call_id = ?", (calls[0].id,)).fetchone()[0] == "erasure"
    )
    con.close()


def test_audit_verify_detects_tampering(tmp_path):
    setup_box(tmp_path)
    cli(tmp_path, "users", "add", "boss", "--role", "admin", stdin=PASSWORD + "\n")
    cli(tmp_path, "tokens", "create", "boss")
    r = cli(tmp_path, "audit", "verify")
    assert r.returncode == 0 and "2 entries" in r.stdout
    con = sqlite3.connect(tmp_path / "data" / "salvesti.db")
    con.execute("UPDATE http_audit SET user = 'nobody' WHERE seq = 1")
    con.commit()
    con.close()
    r = cli(tmp_path, "audit", "verify")
    assert r.returncode == 1 and "entry 1" in r.stderr


def test_bad_config_is_exit_2(tmp_path):
    (tmp_path / "config.yaml").write_text("salvesti: {purpose: x}\nhttp: {listen: nowhere}\n")
    r = cli(tmp_path, "audit", "verify")
    assert r.returncode == 2 and "config.yaml:" in r.stderr
