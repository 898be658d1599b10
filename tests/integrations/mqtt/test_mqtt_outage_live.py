"""Broker outages: last will, reconnect with catch-up, a broker down at start, a broker restart.

The integration reaches the broker through a loopback TCP relay the test controls, so "the
connection dies" and "the broker is not there yet" are real socket events, not simulated.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from mqtt_harness import BROKER, TcpProxy, free_port, running_hub, settled, watch

from salvesti.core import bus as events
from salvesti.core.call import Call, Direction, Disposition

KEY = "3726000000"


def missed_call(hub, call_id: str) -> Call:
    now = hub.now()
    return Call(
        id=call_id,
        source="office",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number="+3725551234",
        started_at=now,
        ended_at=now + timedelta(seconds=20),
        disposition=Disposition.NO_ANSWER,
    )


async def test_killed_connection_shows_offline_then_reconnects_and_catches_up(
    tmp_path, prefixes, proxy, fast_reconnect
):
    p = prefixes
    status = f"{p.topics}/ha/status"
    conf = p.conf(broker=f"127.0.0.1:{proxy.port}")
    async with watch(f"{p.topics}/#") as ha, running_hub(tmp_path, conf) as hub:
        await ha.wait(status, lambda m: m.payload == b"online")
        await settled(hub)
        mark = len(ha.messages)
        proxy.cut()  # no DISCONNECT: the broker publishes our last will
        await ha.wait(status, lambda m: m.payload == b"offline", after=mark)
        call = missed_call(hub, "c1")
        hub.bus.publish(events.CALL_STARTED, call.to_json())  # while (maybe) still offline
        hub.bus.publish(events.CALL_ENDED, call.to_json())
        await ha.wait(status, lambda m: m.payload == b"online", after=mark)
        state = await ha.json_on(f"{p.topics}/ha/line/{KEY}/state", after=mark, missed_today=1)
        assert state["call_active"] == "OFF"
        missed = await ha.json_on(f"{p.topics}/ha/line/{KEY}/event", after=mark, event_type="missed")
        assert missed["call_id"] == "c1"
        assert proxy.accepted >= 2
    async with watch(status) as late:  # and the clean stop leaves "offline" behind
        stored = await late.wait(status)
        assert (stored.payload, stored.retain) == (b"offline", True)


async def test_broker_down_at_start_never_blocks_calls_and_catches_up(tmp_path, prefixes, fast_reconnect):
    p = prefixes
    relay = TcpProxy(free_port())  # nothing listens yet: connection refused, like a broker that is down
    conf = p.conf(broker=f"127.0.0.1:{relay.port}")
    try:
        async with watch(f"{p.topics}/#") as ha, running_hub(tmp_path, conf) as hub:
            connection = hub.integrations["ha"].connection
            for _ in range(200):
                if connection.failures >= 2:
                    break
                await asyncio.sleep(0.02)
            assert connection.failures >= 2 and not connection.connected
            assert [e.state for e in hub.entries if e.kind == "integration"] == ["loaded"]
            call = missed_call(hub, "c1")
            began = time.monotonic()
            await hub.call_started(call)  # the store and the bus, with the broker away
            await hub.call_ended(call)
            assert time.monotonic() - began < 0.5
            assert ha.messages == []
            await relay.start()  # the broker "comes up"
            await ha.wait(f"{p.topics}/ha/status", lambda m: m.payload == b"online")
            state = await ha.json_on(f"{p.topics}/ha/line/{KEY}/state", missed_today=1)
            assert state == {
                "call_active": "OFF",
                "active_calls": 0,
                "call_state": "idle",
                "calls_today": 1,
                "missed_today": 1,
                "recording_paused": "OFF",
            }
            missed = await ha.json_on(f"{p.topics}/ha/line/{KEY}/event", event_type="missed")
            assert missed["number"] == "+372*****34"
            # the incoming/ended events of that call were queued too, in order
            await ha.json_on(f"{p.topics}/ha/line/{KEY}/event", event_type="ended")
            kinds = [m.json()["event_type"] for m in ha.on(f"{p.topics}/ha/line/{KEY}/event")]
            assert kinds == ["incoming", "missed", "ended"]
        async with watch(f"{p.discovery}/#") as late:
            await late.wait(f"{p.discovery}/device/{p.topics}_ha_{KEY}/config")
    finally:
        await relay.close()


async def test_broker_restart_without_persistence_gets_discovery_and_state_again(
    tmp_path, prefixes, private_broker, fast_reconnect
):
    p = prefixes
    await private_broker.start()
    port = private_broker.port
    conf = p.conf(broker=f"127.0.0.1:{port}")
    async with running_hub(tmp_path, conf) as hub:
        await settled(hub)
        hub.bus.publish(events.CALL_STARTED, missed_call(hub, "c1").to_json())
        await settled(hub)
        private_broker.stop()  # every retained message is gone with it
        await private_broker.start()
        async with watch(f"{p.discovery}/#", f"{p.topics}/#", port=port) as ha:
            state = await ha.json_on(f"{p.topics}/ha/line/{KEY}/state", call_active="ON")
            assert state["calls_today"] == 1
            config = await ha.wait(f"{p.discovery}/device/{p.topics}_ha_{KEY}/config")
            assert config.json()["cmps"][f"{p.topics}_ha_{KEY}_call"]["p"] == "event"
            assert hub.integrations["ha"].connection.connects >= 2
    assert BROKER[1] != port


async def test_a_hung_broker_neither_delays_calls_nor_shutdown(tmp_path, prefixes, proxy, fast_reconnect):
    p = prefixes
    async with watch(f"{p.topics}/#") as ha:
        began = None
        async with running_hub(tmp_path, p.conf(broker=f"127.0.0.1:{proxy.port}")) as hub:
            await settled(hub)
            proxy.freeze()  # TCP stays up, nothing gets through: PUBACKs never come
            call = missed_call(hub, "c1")
            t0 = time.monotonic()
            await hub.call_started(call)
            await hub.call_ended(call)
            assert time.monotonic() - t0 < 0.5
            await asyncio.sleep(0.3)
            assert hub.integrations["ha"].connection.pending > 0  # stuck behind the hung broker
            began = time.monotonic()
        stop_took = time.monotonic() - began
        # stop gives the queue STOP_TIMEOUT (2 s) to drain, then leaves it to the last will
        assert stop_took < 4.0, stop_took
        assert not [m for m in ha.messages if b"c1" in m.payload]


async def test_a_silent_broker_that_never_answers_connect_does_not_block_start_or_stop(tmp_path, prefixes):
    p = prefixes
    accepted: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accept the TCP connection, never send CONNACK

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        t0 = time.monotonic()
        async with running_hub(tmp_path, p.conf(broker=f"127.0.0.1:{port}")) as hub:
            assert time.monotonic() - t0 < 2.0
            await hub.call_started(missed_call(hub, "c1"))
            for _ in range(100):
                if accepted:
                    break
                await asyncio.sleep(0.02)
            assert accepted and not hub.integrations["ha"].connection.connected
            t1 = time.monotonic()
        assert time.monotonic() - t1 < 2.0
    finally:
        for writer in accepted:
            writer.transport.abort()
        server.close()
        await server.wait_closed()
