"""The one-time setup code and the refusal to run once a config or an admin user exists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from salvesti.setup.guard import MAX_FAILURES, SetupCode, admin_exists, new_code, refusal


def test_code_shape_and_redeem() -> None:
    code = new_code()
    assert len(code) == 9 and code[4] == "-"
    assert not set(code) & set("01OI")
    guard = SetupCode(code)
    token = guard.redeem(code.lower().replace("-", " "))  # typed loosely: case and separators ignored
    assert token and guard.allows(token)
    assert not guard.allows("made-up") and not guard.allows(None)


def test_wrong_codes_use_up_the_code() -> None:
    guard = SetupCode("ABCD-EFGH")
    for _ in range(MAX_FAILURES):
        assert guard.redeem("WXYZ-WXYZ") is None
    assert guard.exhausted
    assert guard.redeem("ABCD-EFGH") is None  # even the right one, until setup restarts


def test_refusal_when_config_exists(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    assert refusal(config, tmp_path / "data" / "salvesti.db") is None
    config.write_text("salvesti: {}\n")
    assert "exists already" in (refusal(config, tmp_path / "data" / "salvesti.db") or "")


def test_refusal_when_an_admin_exists(tmp_path: Path) -> None:
    """An admin made by `salvesti users add` (a config that was then moved away) blocks setup."""
    config = tmp_path / "config.yaml"
    config.write_text('salvesti: {purpose: "test"}\nsinks: [{platform: local, id: d, path: rec}]\n')
    made = subprocess.run(
        [sys.executable, "-m", "salvesti", "users", "add", "boss", "--role", "admin", "-c", str(config)],
        input="Long-enough-pass-9\n",
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    db = tmp_path / "data" / "salvesti.db"
    assert admin_exists(db)
    config.unlink()
    assert "an admin user exists already" in (refusal(config, db) or "")
    setup = subprocess.run(
        [sys.executable, "-m", "salvesti", "setup", "-c", str(config), "--listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert setup.returncode == 1
    assert "an admin user exists already" in setup.stderr and "salvesti users add" in setup.stderr
