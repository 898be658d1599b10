"""Subject requests through the real CLI: logged with the date received, open until the
export or erasure ran, then closed (an erasure keeps only a masked number)."""

from __future__ import annotations

import sqlite3

import pytest
from test_http_cli import cli, setup_box


def rows(tmp_path):
    con = sqlite3.connect(tmp_path / "data" / "salvesti.db")
    try:
        return con.execute(
            "SELECT kind, number, received, deadline, closed_at IS NOT NULL, outcome "
            "FROM http_subject_requests "
            "ORDER BY id"
        ).fetchall()
    finally:
        con.close()


def test_a_request_is_open_until_it_ran(tmp_path):
    setup_box(tmp_path)
    r = cli(tmp_path, "subject", "request", "erase", "5551234", "--received", "2026-01-31")
    assert r.returncode == 0, r.stderr
    assert (
        r.stdout == "erase request of 5551234: request received 2026-01-31, answer by 2026-02-28 (OVERDUE)\n"
    )
    r = cli(tmp_path, "subject", "erase", "+3725551234")  # the dry run: still open
    assert r.stdout.endswith("request received 2026-01-31, answer by 2026-02-28 (OVERDUE); still open\n")
    assert rows(tmp_path) == [("erase", "+3725551234", "2026-01-31", "2026-02-28", 0, None)]
    r = cli(tmp_path, "subject", "erase", "+3725551234", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert rows(tmp_path) == [("erase", "+37255…", "2026-01-31", "2026-02-28", 1, "2 call(s) erased")]


def test_export_logs_and_closes_with_the_received_date(tmp_path):
    setup_box(tmp_path)
    r = cli(
        tmp_path,
        "subject",
        "export",
        "+3725551234",
        "--out",
        str(tmp_path / "out"),
        "--received",
        "2026-11-20",
    )
    assert r.returncode == 0, r.stderr
    assert "request received 2026-11-20, answer by 2026-12-20" in r.stdout
    assert rows(tmp_path) == [("export", "+3725551234", "2026-11-20", "2026-12-20", 1, "2 call(s) exported")]
    with pytest.raises(SystemExit) as info:  # argparse: usage error, exit 2, the reason on stderr
        cli(tmp_path, "subject", "export", "+3725551234", "--out", "x", "--received", "20.11.2026")
    assert info.value.code == 2
