"""``GET /metrics``: guarded as CONTRACT "Operations" says, parses as Prometheus text, and
moves with a call (ended, unhealthy, failed, RTP, active) and a retention sweep."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from http_env import Env, make_call, start_env
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from salvesti.core import bus as events
from salvesti.core.health import RtpCounts
from salvesti.core.recording import CallRecording
from salvesti.plugins.http.routes_metrics import address_allowed

LOSSY = RtpCounts(received=480, lost=120)


@pytest.fixture
async def scraped(tmp_path: Path) -> AsyncIterator[tuple[Env, aiohttp.ClientSession]]:
    """A hub whose http block lets 127.0.0.1 scrape without a token."""
    env = await start_env(tmp_path, metrics_from=["127.0.0.1", "10.0.0.0/8"])
    try:
        async with aiohttp.ClientSession(env.url) as session:
            yield env, session
    finally:
        await env.hub.async_stop(call_timeout=0.1)


async def samples(http: aiohttp.ClientSession, **kw: object) -> dict[tuple[str, tuple], float]:
    async with http.get("/metrics", **kw) as r:
        assert r.status == 200, await r.text()
        assert r.headers["Content-Type"] == CONTENT_TYPE_LATEST  # what generate_latest writes
        text = await r.text()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.mark.parametrize(
    ("who", "status"), [(None, 401), ("agent1", 403), ("manager", 403), ("bogus", 401), ("admin", 200)]
)
async def test_metrics_need_an_admin_token_without_an_allowed_address(env, http, who, status):
    headers = {} if who is None else {"Authorization": f"Bearer {env.tokens.get(who, 'slv_nope')}"}
    async with http.get("/metrics", headers=headers) as r:
        assert r.status == status, await r.text()
        if status == 401:
            assert r.headers["WWW-Authenticate"] == 'Bearer realm="salvesti"'
        assert ("salvesti_calls_total" in await r.text()) == (status == 200)


async def test_an_allowed_address_scrapes_without_a_token_but_a_weak_token_still_fails(scraped):
    env, http = scraped
    assert (await samples(http))[("salvesti_recordings_failed_total", ())] == 0
    async with http.get("/metrics", headers={"Authorization": f"Bearer {env.tokens['manager']}"}) as r:
        assert r.status == 403


async def test_metrics_move_with_a_call_and_a_sweep(scraped):
    env, http = scraped
    hub = env.hub
    before = await samples(http)
    assert before[("salvesti_rtp_packets_lost_total", (("channel", "outside"),))] == 0
    assert before[("salvesti_recordings_unhealthy_total", (("reason", "packet_loss"),))] == 0
    # the sweep at start (the hub's own schedule) already counts
    assert before[("salvesti_retention_last_sweep_timestamp_seconds", ())] > 0
    assert before[("salvesti_disk_free_bytes", (("folder", "data_dir"),))] > 0
    assert ("salvesti_disk_free_bytes", (("folder", "sink:disk"),)) in before

    class Source:
        def active_calls(self) -> int:
            return 2

    hub.sources["office"] = Source()
    call = make_call(Path(hub.data_dir) / "recordings" / "m", 20, ext="101", number="+3725559000")
    hub.bus.publish(events.RECORDING_FAILED, {"call_id": call.id, "error": "disk full"})
    await hub.call_ended(call, CallRecording(hub, call, hub.default_sink()), rtp={"outside": LOSSY})
    assert [str(p.reason) for p in call.health] == ["packet_loss"]
    hub.bus.publish(events.RETENTION_SWEPT, {"at": "2027-01-01T00:00:00+00:00", "deleted": 0})
    after = await samples(http)
    key = (
        "salvesti_calls_total",
        (("direction", "inbound"), ("disposition", "answered"), ("source", "office")),
    )
    assert before.get(key, 0) == 0 and after[key] == 1
    assert after[("salvesti_active_calls", (("source", "office"),))] == 2
    assert after[("salvesti_recordings_failed_total", ())] == 1
    assert after[("salvesti_rtp_packets_received_total", (("channel", "outside"),))] == 480
    assert after[("salvesti_rtp_packets_lost_total", (("channel", "outside"),))] == 120
    assert after[("salvesti_recordings_unhealthy_total", (("reason", "packet_loss"),))] == 1
    assert after[("salvesti_retention_last_sweep_timestamp_seconds", ())] == 1798761600.0


async def test_two_hubs_keep_their_own_counts(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = await start_env(tmp_path / "one", metrics_from=["127.0.0.1"])
    two = await start_env(tmp_path / "two", metrics_from=["127.0.0.1"])
    try:
        one.hub.bus.publish(events.RECORDING_FAILED, {"call_id": "x", "error": "e"})
        async with aiohttp.ClientSession(one.url) as a, aiohttp.ClientSession(two.url) as b:
            assert (await samples(a))[("salvesti_recordings_failed_total", ())] == 1
            assert (await samples(b))[("salvesti_recordings_failed_total", ())] == 0
    finally:
        await one.hub.async_stop(call_timeout=0.1)
        await two.hub.async_stop(call_timeout=0.1)


def test_address_allowed():
    nets = [
        ipaddress.ip_network("127.0.0.1"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1"),
    ]
    assert address_allowed("127.0.0.1", nets) and address_allowed("10.2.3.4", nets)
    assert address_allowed("::ffff:10.2.3.4", nets) and address_allowed("::1", nets)
    assert not address_allowed("192.168.1.5", nets)
    assert not address_allowed(None, nets) and not address_allowed("not-an-ip", nets)
    assert not address_allowed("127.0.0.1", [])
