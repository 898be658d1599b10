"""``salvesti analysis run|status`` as a user runs them: a real process on a real database
(the SQLite file, and a PostgreSQL store)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
from salvesti.testing.stores import either_store, pg_dsn  # noqa: F401  (a fixture)

SALVESTI = str(Path(sys.executable).parent / "salvesti")
CONFIG = """
salvesti:
  purpose: "Klienditeeninduse kvaliteedi parandamine"
analysis:
  purpose: "Müügikõnede analüüs"
"""


def salvesti(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SALVESTI, *args, "-c", "config.yaml"], cwd=folder, capture_output=True, text=True, timeout=120
    )


def tone_call(path: Path) -> None:
    t = np.arange(8000 * 4) / 8000
    burst = ((np.sin(2 * np.pi * 180 * t) * (t % 1 < 0.6)) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.stack([burst, np.zeros_like(burst)], axis=1).tobytes())


async def seed(folder: Path, backend: str = "sqlite", dsn: str = "") -> None:
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    async with either_store(backend, folder / "data" / "salvesti.db", lambda: dsn) as store:
        for n, path in enumerate([folder / "a.wav", folder / "missing.wav"]):
            await store.save_call(
                Call(
                    id=f"c{n}",
                    source="office",
                    direction=Direction.INBOUND,
                    line="+3726000000",
                    remote_number="+3725551234",
                    started_at=t0 + timedelta(minutes=n),
                    answered_at=t0 + timedelta(minutes=n),
                    ended_at=t0 + timedelta(minutes=n, seconds=4),
                    disposition=Disposition.ANSWERED,
                    recording=RecordingInfo(path=str(path), status="saved"),
                )
            )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_run_works_through_the_backlog_and_status_shows_the_queue(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
):
    dsn = request.getfixturevalue("pg_dsn") if backend == "postgresql" else ""
    store = f"store: {{platform: postgresql, dsn: '{dsn}', pool_size: 2}}\n" if dsn else ""
    (tmp_path / "config.yaml").write_text(CONFIG + store, encoding="utf-8")
    tone_call(tmp_path / "a.wav")
    asyncio.run(seed(tmp_path, backend, dsn))
    done = salvesti(tmp_path, "analysis", "run")
    assert done.returncode == 1, done.stderr  # one call's file is missing: it failed, and we say so
    assert "2 call(s) queued now" in done.stderr and "1 analysed, 1 failed" in done.stderr
    assert "[" in done.stderr and "2/2 analysed" in done.stderr  # the progress bar
    status = salvesti(tmp_path, "analysis", "status", "--json")
    body = json.loads(status.stdout)
    assert body["enabled"] is True and body["counts"]["done"] == 1 and body["counts"]["failed"] == 1
    assert "missing" in body["failures"][0]["error"]
    text = salvesti(tmp_path, "analysis", "status").stdout
    assert "done: 1" in text and "failed c1 after 1 attempt(s)" in text
    again = salvesti(tmp_path, "analysis", "run", "--call", "c0")
    assert again.returncode == 0 and "1 analysed, 0 failed" in again.stderr, again.stderr
    nothing = salvesti(tmp_path, "analysis", "run")
    assert nothing.returncode == 0 and "0 call(s) queued now" in nothing.stderr
    retry = salvesti(tmp_path, "analysis", "run", "--retry-failed")
    assert retry.returncode == 1 and "1 call(s) queued now" in retry.stderr, retry.stderr


def test_run_without_an_analysis_block_says_so(tmp_path: Path):
    (tmp_path / "config.yaml").write_text(CONFIG.split("analysis:")[0], encoding="utf-8")
    done = salvesti(tmp_path, "analysis", "run")
    assert done.returncode == 1 and "analysis is off" in done.stderr
