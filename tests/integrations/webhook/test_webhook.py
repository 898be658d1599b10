"""Webhooks against a real aiohttp receiver on loopback: signed bodies, only the listed events,
a receiver that fails first and a restart in between lose nothing.

The hub's clock is fake (``hub.now``), so the backoff moves when the test says so; the test
never sleeps to let time pass, it only waits (bounded) for what the receiver got."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol
from aiohttp import web

from salvesti.core import bus as events
from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
from salvesti.core.config import load_config
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.integrations.webhook.outbox import backoff
from salvesti.integrations.webhook.schema import SCHEMA

SECRET = "a-webhook-secret-of-32-characters"
TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 11, 29, 10, 0, tzinfo=TZ)


class Receiver:
    """An HTTP endpoint on loopback that answers ``statuses`` in turn (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((dict(request.headers), await request.read()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def wait_for(self, count: int) -> None:
        for _ in range(500):
            if len(self.got) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the receiver got {len(self.got)} requests, not {count}")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver([500])
    await r.start()
    yield r
    assert r.runner is not None
    await r.runner.cleanup()


class FakeClock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


async def start_hub(
    tmp_path: Path, url: str, clock: FakeClock, events_: list[str], store: dict[str, Any] | None = None
) -> Hub:
    import yaml

    path = tmp_path / "config.yaml"
    config = {
        "salvesti": {"data_dir": "./data", "timezone": "Europe/Tallinn", "purpose": "test"},
        "store": store or {"platform": "sqlite"},
        "integrations": [
            {"platform": "webhook", "id": "crm", "url": url, "secret": SECRET, "events": events_}
        ],
    }
    path.write_text(yaml.safe_dump(config))
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    hub = Hub(load_config(path, plugins), config_path=path, plugins=plugins)
    hub.now = clock  # type: ignore[method-assign]
    await hub.async_start()
    assert hub.status()[-1]["state"] == "loaded", hub.status()
    return hub


def ended_call() -> Call:
    return Call(
        id="20261129T100000-0000000000a1",
        source="office",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number="+3725551234",
        started_at=T0 - timedelta(seconds=70),
        answered_at=T0 - timedelta(seconds=60),
        ended_at=T0,
        disposition=Disposition.ANSWERED,
        recording=RecordingInfo(path="/r/a1.wav", duration_s=60.0, bytes=960044, sha256="ab", status="saved"),
    )


async def pending(hub: Hub) -> list[dict[str, Any]]:
    return await hub.integrations["crm"].outbox.pending()


async def test_a_failed_delivery_survives_a_restart_and_is_retried_with_backoff(tmp_path, receiver):
    clock = FakeClock()
    hub = await start_hub(tmp_path, receiver.url, clock, ["call_ended", "analysis_done"])
    try:
        call = ended_call()
        await hub.call_ended(call)  # publishes call_ended and recording_saved (not listed)
        await receiver.wait_for(1)
        await hub.bus.drain()
        for _ in range(200):  # the 500 is answered before the failed attempt is written
            (row,) = await pending(hub)
            if row["attempts"]:
                break
            await asyncio.sleep(0.01)
        # the 500: kept, retried 15 s later
        assert (row["event"], row["attempts"], row["last_error"]) == ("call_ended", 1, "HTTP 500")
        assert row["next_at"] == (T0 + timedelta(seconds=15)).timestamp()
        stored = (await hub.store.get_call(call.id)).to_json()
    finally:
        await hub.async_stop(call_timeout=0)

    # A restart before the retry is due: the delivery is still in the store.
    hub = await start_hub(tmp_path, receiver.url, clock, ["call_ended", "analysis_done"])
    try:
        assert [r["id"] for r in await pending(hub)] == [row["id"]]
        clock.at = T0 + timedelta(seconds=16)
        hub.integrations["crm"].kick()
        await receiver.wait_for(2)
        for _ in range(200):  # the 200 is answered before the row is deleted
            if not await pending(hub):
                break
            await asyncio.sleep(0.01)
        assert await pending(hub) == []
    finally:
        await hub.async_stop(call_timeout=0)

    (h1, b1), (h2, b2) = receiver.got
    assert b1 == b2, "the retry sends the same body"
    assert h2["X-Salvesti-Delivery"] == h1["X-Salvesti-Delivery"] == str(row["id"])
    expected = "sha256=" + hmac.new(SECRET.encode(), b2, hashlib.sha256).hexdigest()
    assert h2["X-Salvesti-Signature"] == expected
    assert h2["Content-Type"] == "application/json" and h2["X-Salvesti-Event"] == "call_ended"
    body = json.loads(b2)
    assert body == {"event": "call_ended", "call": stored}, "the call object as calls show --json has it"


async def test_only_listed_events_are_sent_and_analysis_done_carries_the_stored_call(tmp_path):
    receiver = Receiver([])
    await receiver.start()
    clock = FakeClock()
    hub = await start_hub(tmp_path, receiver.url, clock, ["analysis_done", "recording_unhealthy"])
    try:
        call = ended_call()
        await hub.call_ended(call)  # call_ended + recording_saved: neither is listed
        hub.bus.publish(events.ANALYSIS_DONE, {"call_id": call.id, "status": "done", "flags": []})
        hub.bus.publish(events.NOTICE_UNVERIFIED, {"call_id": call.id})
        await receiver.wait_for(1)
        await hub.bus.drain()
        assert await pending(hub) == []
        assert len(receiver.got) == 1
        body = json.loads(receiver.got[0][1])
        assert body["event"] == "analysis_done" and body["call"]["id"] == call.id
        assert body["call"]["recording"]["sha256"] == "ab"
    finally:
        await hub.async_stop(call_timeout=0)
        assert receiver.runner is not None
        await receiver.runner.cleanup()


async def test_an_unreachable_receiver_is_a_failed_attempt_not_an_error(tmp_path):
    receiver = Receiver([])
    await receiver.start()
    url = receiver.url
    assert receiver.runner is not None
    await receiver.runner.cleanup()  # nothing listens there any more
    hub = await start_hub(tmp_path, url, FakeClock(), ["call_ended"])
    try:
        await hub.call_ended(ended_call())
        for _ in range(300):
            rows = await pending(hub)
            if rows and rows[0]["attempts"]:
                break
            await asyncio.sleep(0.01)
        assert rows[0]["attempts"] == 1 and "ClientConnectorError" in rows[0]["last_error"]
    finally:
        await hub.async_stop(call_timeout=0)


def test_backoff_first_retry_within_a_minute_then_slower_capped_at_an_hour():
    delays = [backoff(n) for n in range(1, 9)]
    assert delays[0] <= 60
    assert delays == sorted(delays) and delays[-1] == 3600


def test_schema():
    conf = SCHEMA({"platform": "webhook", "id": "crm", "url": "https://crm.example/hook", "secret": SECRET})
    assert conf["events"] == ["call_ended", "recording_saved", "analysis_done", "recording_unhealthy"]
    with pytest.raises(vol.Invalid, match="unknown event 'call_started'"):
        SCHEMA({**conf, "events": ["call_started"]})
    with pytest.raises(vol.Invalid, match="expected an http:// or https:// URL"):
        SCHEMA({**conf, "url": "ftp://x"})
    with pytest.raises(vol.Invalid, match="at least 16 characters"):
        SCHEMA({**conf, "secret": "short"})


async def test_the_daily_health_summary_is_sent_signed_when_listed(tmp_path):
    receiver = Receiver([])
    await receiver.start()
    hub = await start_hub(tmp_path, receiver.url, FakeClock(), ["health_summary"])
    try:
        await hub.call_ended(ended_call())  # call events: not listed
        summary = {"since": "2026-11-28T00:00:00+02:00", "until": "2026-11-29T00:00:00+02:00", "unhealthy": 1}
        hub.bus.publish(events.HEALTH_SUMMARY, summary)
        await receiver.wait_for(1)
        await hub.bus.drain()
        assert len(receiver.got) == 1
        headers, raw = receiver.got[0]
        assert json.loads(raw) == {"event": "health_summary", "summary": summary}
        assert (
            headers["X-Salvesti-Signature"]
            == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        )
    finally:
        await hub.async_stop(call_timeout=0)
        assert receiver.runner is not None
        await receiver.runner.cleanup()


def test_health_summary_is_opt_in() -> None:
    conf = SCHEMA({"platform": "webhook", "id": "crm", "url": "https://crm.example/hook", "secret": SECRET})
    assert "health_summary" not in conf["events"]
    assert SCHEMA({**conf, "events": ["health_summary"]})["events"] == ["health_summary"]
