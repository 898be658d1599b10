"""The analysis queue with real worker processes, a real store (SQLite and PostgreSQL) and
espeak-ng speech.

No model here (transcription has its own end-to-end test): talk metrics, the notice check,
failures with reasons, retries with backoff, and a third-party step through the hook.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from salvesti.core import bus as events
from salvesti.core.analyzers import CallMedia
from salvesti.core.bus import EventBus
from salvesti.core.call import Call, Direction, Disposition, NoticeInfo, RecordingInfo
from salvesti.plugins.analysis.runner import AnalysisRunner
from salvesti.plugins.analysis.worker import Job, JobResult, analyse, build_steps
from salvesti.plugins.store_postgresql import PostgresStore
from salvesti.plugins.store_sqlite import SqliteStore
from salvesti.testing.speech import speak as speak_to
from salvesti.testing.speech import write_stereo
from salvesti.testing.stores import either_store, pg_dsn  # noqa: F401  (a fixture)

RATE = 8000
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def speak(text: str, out: Path, voice: str = "en-us") -> np.ndarray:
    return speak_to(text, out, voice=voice, speed=175).astype(np.int16)


class Notice:
    """A NoticePlayer: the notice's audio at any rate (here: 8 kHz only)."""

    id = "et"
    name = "et"
    directions = ["inbound", "outbound"]
    lines = None

    def __init__(self, pcm: np.ndarray) -> None:
        self._pcm = pcm

    def pcm(self, sample_rate: int) -> bytes:
        assert sample_rate == RATE
        return self._pcm.tobytes()

    async def async_setup(self) -> None: ...

    async def async_unload(self) -> None: ...


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("voices")
    return {
        "notice": speak("See kõne salvestatakse kvaliteedi parandamiseks.", folder / "notice.wav", "et"),
        "agent": speak("Good morning, how can I help you today? We have a new offer.", folder / "agent.wav"),
        "customer": speak("Hello, I would like to order a cake for Saturday, please.", folder / "cust.wav"),
    }


def make_call(n: int, path: Path, *, notice_played: bool = True) -> Call:
    started = T0 + timedelta(minutes=n)
    return Call(
        id=f"c{n:03d}",
        source="office",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number="+3725551234",
        started_at=started,
        answered_at=started,
        ended_at=started + timedelta(seconds=12),
        disposition=Disposition.ANSWERED,
        recording=RecordingInfo(path=str(path), status="saved", sample_rate=RATE),
        notice=NoticeInfo(played=notice_played, name="et" if notice_played else None, played_at=started),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqliteStore | PostgresStore]:
    dsn = lambda: request.getfixturevalue("pg_dsn")  # noqa: E731
    async with either_store(request.param, tmp_path / "salvesti.db", dsn) as s:
        yield s


def dead_pid() -> int:
    """The pid of a process of this host that has exited (its claim is stale)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    return int(proc.stdout)


def runner_for(
    store: SqliteStore | PostgresStore, tmp_path: Path, notice: Notice, bus: EventBus, **conf: Any
) -> AnalysisRunner:
    return AnalysisRunner(
        store=store,
        conf={"purpose": "test", "concurrency": 1, "retries": 2, "retry_backoff_s": 60, **conf},
        data_dir=tmp_path,
        config_dir=tmp_path,
        notices={"et": notice},
        notice_for=lambda call: notice,
        bus=bus,
    )


def truth_seconds(pcm: np.ndarray) -> float:
    """Speech seconds of an espeak clip: 10 ms frames above 1 % of the peak, short pauses bridged."""
    frame = RATE // 100
    n = len(pcm) // frame
    rms = np.sqrt(np.mean(pcm[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
    active = np.flatnonzero(rms > rms.max() * 0.01)
    return (active[-1] - active[0] + 1) / 100 if active.size else 0.0


async def test_a_finished_call_gets_talk_metrics_and_notice_evidence(store, tmp_path, voices):
    gap = np.zeros(int(0.8 * RATE), dtype=np.int16)
    right = np.concatenate(
        [voices["notice"], gap, np.zeros(len(voices["customer"]) + len(gap), np.int16), voices["agent"]]
    )
    left = np.concatenate([np.zeros(len(voices["notice"]) + len(gap), np.int16), voices["customer"]])
    path = tmp_path / "c001.wav"
    write_stereo(path, left, right)
    call = make_call(1, path)
    await store.save_call(call)
    bus = EventBus()
    seen: list[tuple[str, dict[str, Any]]] = []
    bus.subscribe("*", lambda e: seen.append((e.name, e.data)))
    runner = runner_for(store, tmp_path, Notice(voices["notice"]), bus)
    try:
        assert await runner.enqueue(call)
        await runner.drain()
    finally:
        runner.close()
    result = await store.analysis.get_result(call.id)
    assert result is not None
    notice = result["notice"]
    assert notice["verified"] is True and notice["at_s"] == pytest.approx(0.0, abs=0.05), notice
    talk = result["talk"]
    # The notice is cut from the agent's talk; each party within 0.5 s of the truth.
    assert talk["outside_s"] == pytest.approx(truth_seconds(voices["customer"]), abs=0.5), talk
    assert talk["agent_s"] == pytest.approx(truth_seconds(voices["agent"]), abs=0.5), talk
    assert talk["turns"] == 2 and talk["interruptions"] == {"outside": 0, "agent": 0}
    assert result["trackers"] == [] and result["flags"] == []
    assert ("analysis_done", {"call_id": call.id, "status": "done", "flags": [], "error": None}) in seen
    assert (await store.analysis.job_status(call.id))["status"] == "done"


async def test_a_missing_notice_is_flagged_and_announced(store, tmp_path, voices):
    path = tmp_path / "c002.wav"
    write_stereo(path, voices["customer"], voices["agent"])  # the notice was never played
    call = make_call(2, path)
    await store.save_call(call)
    bus = EventBus()
    flagged: list[str] = []
    bus.subscribe(events.NOTICE_UNVERIFIED, lambda e: flagged.append(e.data["call_id"]))
    runner = runner_for(store, tmp_path, Notice(voices["notice"]), bus)
    try:
        await runner.enqueue(call)
        await runner.drain()
    finally:
        runner.close()
    result = await store.analysis.get_result(call.id)
    assert result["notice"]["verified"] is False and result["notice"]["expected"] is True
    assert result["flags"] == ["notice_unverified"]
    assert flagged == [call.id]


async def test_a_missing_file_fails_once_with_its_reason(store, tmp_path, voices):
    call = make_call(3, tmp_path / "gone.wav")
    await store.save_call(call)
    bus = EventBus()
    runner = runner_for(store, tmp_path, Notice(voices["notice"]), bus)
    try:
        await runner.enqueue(call)
        progress = await runner.drain()
    finally:
        runner.close()
    job = await store.analysis.job_status(call.id)
    assert job["status"] == "failed" and job["attempts"] == 1, job
    assert "missing" in job["error"] and progress.failed == 1


async def test_a_failing_step_is_retried_with_backoff_then_fails(store, tmp_path, voices):
    call = make_call(4, tmp_path / "x.wav")
    await store.save_call(call)
    runner = runner_for(store, tmp_path, Notice(voices["notice"]), EventBus(), retries=2, retry_backoff_s=60)
    now = datetime.now(UTC)
    await store.analysis.enqueue(call.id)
    await store.analysis.claim(runner.worker, 1)
    await runner._finish(JobResult(call.id, ok=False, error="RuntimeError: flaky"), attempts=0)
    job = await store.analysis.job_status(call.id)
    assert (job["status"], job["attempts"]) == ("queued", 1)
    due = await store.analysis.next_due()
    assert timedelta(seconds=55) < due - now < timedelta(seconds=70)  # 60 s x 2^0
    await runner._finish(JobResult(call.id, ok=False, error="RuntimeError: flaky"), attempts=1)
    assert await store.analysis.next_due() - now > timedelta(seconds=110)
    await runner._finish(JobResult(call.id, ok=False, error="RuntimeError: flaky"), attempts=2)
    job = await store.analysis.job_status(call.id)
    assert job["status"] == "failed" and job["error"] == "RuntimeError: flaky"


class Loudest:
    """A third-party step: it runs after the built-ins and sees their speech segments."""

    name = "loudest"
    order = 50

    def analyze(self, media: CallMedia) -> None:
        media.result["loudest"] = {
            "segments_seen": len(media.speech["outside"]) + len(media.speech["agent"]),
            "peak": int(np.abs(media.outside).max()),
        }


def test_a_third_party_step_runs_after_the_built_ins(tmp_path, voices):
    path = tmp_path / "c005.wav"
    write_stereo(path, voices["customer"], voices["agent"])
    steps = [*build_steps({"trackers": []}), Loudest()]
    assert [s.name for s in steps] == ["notice", "talk", "trackers", "loudest"]
    done = analyse(Job("c005", make_call(5, path).to_json(), str(path)), steps)
    assert done.ok, done.error
    assert done.result["loudest"]["segments_seen"] >= 2 and done.result["loudest"]["peak"] > 10000


def test_a_recording_that_is_not_stereo_is_a_permanent_failure(tmp_path, voices):
    path = tmp_path / "mono.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(voices["agent"].tobytes())
    done = analyse(Job("m", {"notice": {}}, str(path)), build_steps({}))
    assert not done.ok and done.permanent and "stereo" in (done.error or "")
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF....WAVEjunk" * 10)
    done = analyse(Job("g", {"notice": {}}, str(garbage)), build_steps({}))
    assert not done.ok and done.permanent and "cannot be read" in (done.error or "")


async def test_a_job_left_running_by_a_dead_process_resumes(store, tmp_path, voices):
    path = tmp_path / "c006.wav"
    write_stereo(path, voices["customer"], voices["agent"])
    call = make_call(6, path)
    await store.save_call(call)
    await store.analysis.enqueue(call.id)
    await store.analysis.claim(f"{socket.gethostname()}:{dead_pid()}", 1)  # a process that died mid-job
    runner = runner_for(store, tmp_path, Notice(voices["notice"]), EventBus())
    try:
        assert await runner.release_stale() == 1
        await runner.drain()
    finally:
        runner.close()
    assert (await store.analysis.job_status(call.id))["status"] == "done"


async def test_catch_up_queues_a_recent_call_that_was_never_queued(store, tmp_path, voices):
    path = tmp_path / "c007.wav"
    write_stereo(path, voices["customer"], voices["agent"])
    call = make_call(7, path)
    call.recording.status = "repaired"  # cut off by a crash, repaired at start
    await store.save_call(call)
    runner = runner_for(store, tmp_path, Notice(voices["notice"]), EventBus())
    assert await runner.catch_up(T0 - timedelta(days=1)) == 1
    assert await runner.catch_up(T0 - timedelta(days=1)) == 0
    assert (await store.analysis.job_status(call.id))["status"] == "queued"
