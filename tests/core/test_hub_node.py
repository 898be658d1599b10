"""Each `salvesti run` has a node name; the calls it takes carry it (several nodes, one store)."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol

from salvesti.core.call import Call, Direction
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.core.schema import CORE_SCHEMA


def hub_for(tmp_path: Path, **core: str) -> Hub:
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    config = {
        "salvesti": {"data_dir": str(tmp_path / "data"), "purpose": "test", **core},
        "store": {"platform": "sqlite"},
    }
    return Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)


def new_call(call_id: str) -> Call:
    started = datetime(2026, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Tallinn"))
    return Call(id=call_id, source="s", direction=Direction.INBOUND, line=None, remote_number="+3725551234",
                started_at=started)  # fmt: skip


async def test_calls_carry_the_node_that_took_them(tmp_path):
    hub = hub_for(tmp_path, node="box-a")
    await hub.async_start()
    try:
        await hub.call_started(new_call("c1"))
        stored = await hub.store.get_call("c1")
        assert stored.node == "box-a" and stored.to_json()["node"] == "box-a"
        other = new_call("c2")
        other.node = "box-b"  # a call another node took keeps its node when this one saves it
        await hub.call_updated(other)
        assert (await hub.store.get_call("c2")).node == "box-b"
    finally:
        await hub.async_stop(call_timeout=0.1)


def test_the_node_defaults_to_the_host_name(tmp_path):
    assert hub_for(tmp_path).node == socket.gethostname()


def test_a_node_name_is_a_plain_name():
    assert CORE_SCHEMA({"purpose": "x", "node": "box-a.office_2"})["node"] == "box-a.office_2"
    with pytest.raises(vol.Invalid, match="node must be a name like box-a"):
        CORE_SCHEMA({"purpose": "x", "node": "box a"})
