"""Retention in a running hub: rules set delete_after at call end; the sweep runs as a hub task."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from salvesti.core.bus import RECORDING_DELETED
from salvesti.core.call import Call, Direction, RecordingInfo
from salvesti.core.config import load_config
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.core.retention import start_schedule
from salvesti.plugins.store_sqlite import open_store

CONFIG = """\
salvesti:
  data_dir: ./data
  timezone: Europe/Tallinn
  purpose: test
retention:
  - {platform: max_age, id: sales, match: {line: "6000000"}, days: 60}
  - {platform: max_age, id: default, days: 0}
"""


async def started_hub(tmp_path: Path) -> Hub:
    (tmp_path / "config.yaml").write_text(CONFIG)
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    config = load_config(tmp_path / "config.yaml", plugins)
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    await hub.async_start()
    return hub


def new_call(hub: Hub, call_id: str, line: str, tmp_path: Path) -> Call:
    now = hub.now() - timedelta(minutes=5)
    file = tmp_path / f"{call_id}.wav"
    file.write_bytes(b"RIFF")
    return Call(
        id=call_id,
        source="office",
        direction=Direction.INBOUND,
        line=line,
        remote_number="+3725551234",
        started_at=now,
        answered_at=now,
        recording=RecordingInfo(path=str(file), status="saved"),
    )


async def test_call_end_applies_first_matching_rule_and_the_schedule_deletes(tmp_path):
    hub = await started_hub(tmp_path)
    deleted: list[str] = []
    hub.bus.subscribe(RECORDING_DELETED, lambda event: deleted.append(event.data["id"]))
    try:
        sale = new_call(hub, "sale", "+3726000000", tmp_path)
        other = new_call(hub, "other", "+3726999999", tmp_path)
        for call in (sale, other):
            await hub.call_started(call)
            await hub.call_ended(call)
        stored = await hub.store.get_call("sale")
        assert stored.retention.rule == "sales"
        assert stored.retention.delete_after == stored.ended_at + timedelta(days=60)
        assert (await hub.store.get_call("other")).retention.rule == "default"

        task = start_schedule(hub, interval=0.05)
        assert task is not None and task.get_name() == "retention sweep"
        for _ in range(100):
            if deleted:
                break
            await asyncio.sleep(0.02)
        assert deleted == ["other"]
        assert not (tmp_path / "other.wav").exists() and (tmp_path / "sale.wav").exists()
    finally:
        await hub.async_stop(call_timeout=0)
    assert task.cancelled()


async def test_open_store_finds_the_database_from_the_config_alone(tmp_path):
    hub = await started_hub(tmp_path)
    try:
        await hub.call_started(new_call(hub, "c1", "+3726000000", tmp_path))
    finally:
        await hub.async_stop(call_timeout=0)
    assert (tmp_path / "data" / "salvesti.db").exists()
    async with open_store(hub.config) as store:
        assert (await store.get_call("c1")).line == "+3726000000"
