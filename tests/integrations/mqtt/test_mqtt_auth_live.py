"""Broker credentials: a refused login is retried in the background and never stops the hub."""

from __future__ import annotations

import asyncio
import logging

from mqtt_harness import running_hub, settled, watch


async def test_wrong_password_keeps_retrying_and_the_right_one_connects(
    tmp_path, prefixes, private_broker, fast_reconnect, caplog
):
    p = prefixes
    private_broker.require_password("salvesti", "right")
    await private_broker.start()
    broker = f"127.0.0.1:{private_broker.port}"
    caplog.set_level(logging.WARNING, logger="salvesti.integrations.mqtt")
    async with running_hub(
        tmp_path / "a", p.conf(broker=broker, username="salvesti", password="wrong")
    ) as hub:
        connection = hub.integrations["ha"].connection
        for _ in range(200):
            if connection.failures >= 3:
                break
            await asyncio.sleep(0.02)
        assert connection.failures >= 3 and not connection.connected
        assert [e.state for e in hub.entries if e.kind == "integration"] == ["loaded"]
    said = [r.getMessage() for r in caplog.records]
    assert said == [  # once, not once per attempt
        f"mqtt(ha): broker {broker} refused the login: [code:135] Not authorized;"
        " retrying in 0.1 s, then less often (calls are not affected)"
    ]

    conf = p.conf(broker=broker, username="salvesti", password="right", client_id="salvesti-test")
    async with running_hub(tmp_path / "b", conf) as hub:
        await settled(hub)
        login = {"username": "salvesti", "password": "right"}
        async with watch(f"{p.topics}/#", port=private_broker.port, **login) as ha:
            status = await ha.wait(f"{p.topics}/ha/status")
            assert (status.payload, status.retain) == (b"online", True)
