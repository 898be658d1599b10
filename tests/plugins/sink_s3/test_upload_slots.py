"""Calls ending together: the s3 sink keeps a bounded number of uploads in flight.

``upload_file`` is replaced by a gate the test opens, so nothing here waits on a clock or a
server: what is checked is how many uploads run at once, and that calls queued behind a store
that stopped answering go to the spool without each waiting for their own timeout.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from salvesti.core.call import Call, Direction, Disposition
from salvesti.plugins.sink_s3 import sink as sink_module
from salvesti.plugins.sink_s3.client import S3Unavailable
from salvesti.plugins.sink_s3.sink import S3Sink

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Gate:
    """Stands in for ``upload_file``: counts uploads in flight, holds each until opened."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.running = self.most = self.calls = 0
        self.fail: Exception | None = None

    async def __call__(self, client: Any, key: str, path: Path, **kw: Any) -> None:
        self.calls += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.open.wait()
            if self.fail is not None:
                raise self.fail
        finally:
            self.running -= 1


def make_sink(tmp_path: Path, max_uploads: int) -> S3Sink:
    hub = SimpleNamespace(data_dir=tmp_path, tz=None, store=None, bus=None, create_task=asyncio.ensure_future)
    conf = {
        "id": "bucket", "endpoint": "http://127.0.0.1:9", "bucket": "recordings",
        "access_key": "k", "secret_key": "s", "max_uploads": max_uploads,
    }  # fmt: skip
    return S3Sink(hub, conf)


def finish(sink: S3Sink, i: int) -> Any:
    started = T0 + timedelta(minutes=i)
    call = Call(
        id=f"slot-{i}", source="office", direction=Direction.INBOUND, line="+3726000000",
        remote_number="+3725551234", started_at=started, answered_at=started,
        ended_at=started + timedelta(seconds=1), disposition=Disposition.ANSWERED,
    )  # fmt: skip
    writer = sink.open(call, 8000)
    writer.write_frames(bytes(4 * 800))
    return sink.finalize(call, writer)


async def settle(gate: Gate, running: int) -> None:
    """Until ``running`` uploads have entered the gate (bounded, by yielding, not by sleeping)."""
    for _ in range(10_000):
        if gate.running >= running:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{gate.running} uploads in flight, expected {running}")


async def burst(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, calls: int, max_uploads: int
) -> tuple[Gate, S3Sink, list[asyncio.Future[Any]]]:
    """``calls`` calls ending at once, with the slots filled and their uploads held at the gate."""
    gate = Gate()
    monkeypatch.setattr(sink_module, "upload_file", gate)
    sink = make_sink(tmp_path, max_uploads=max_uploads)
    tasks = [asyncio.ensure_future(finish(sink, i)) for i in range(calls)]
    await settle(gate, max_uploads)
    return gate, sink, tasks


async def test_no_more_than_max_uploads_are_in_flight(tmp_path, monkeypatch):
    gate, sink, tasks = await burst(tmp_path, monkeypatch, calls=6, max_uploads=2)
    gate.open.set()
    infos = await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert gate.most == 2 and gate.calls == 6
    assert all(i.path.startswith("s3://recordings/") and i.status == "saved" for i in infos)
    await sink.client.close()


async def test_calls_behind_a_failed_upload_are_spooled_without_trying(tmp_path, monkeypatch):
    gate, sink, tasks = await burst(tmp_path, monkeypatch, calls=3, max_uploads=1)
    gate.fail = S3Unavailable("PUT: TimeoutError")
    gate.open.set()
    infos = await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert gate.calls == 1  # the two queued behind it did not each wait for a timeout
    assert [i.status for i in infos] == ["spooled"] * 3
    assert all(await asyncio.to_thread(lambda: [Path(i.path).exists() for i in infos]))
    # The spool worker's next success says the store answers again; new calls go straight up.
    gate.fail = None
    entry = sink.spool.get("slot-0")
    assert entry is not None
    await sink._upload(entry.key, entry.file, sink_module.FileDigest(1, "x"))
    info = await asyncio.wait_for(finish(sink, 9), 30)
    assert info.status == "saved" and gate.calls == 3
    await sink.client.close()


@pytest.mark.parametrize("bad", [0, 257])
def test_max_uploads_is_checked_by_the_schema(bad):
    import voluptuous as vol

    from salvesti.plugins.sink_s3.schema import SCHEMA

    base = {"platform": "s3", "id": "b", "endpoint": "http://h:1", "bucket": "rec", "access_key": "k",
            "secret_key": "s"}  # fmt: skip
    assert SCHEMA(base)["max_uploads"] == 8
    with pytest.raises(vol.Invalid):
        SCHEMA({**base, "max_uploads": bad})
