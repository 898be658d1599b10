"""Small test platforms so config tests do not depend on other helpers' plugins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from salvesti.core.plugins import Platform, PluginManager, hookimpl

TRUNK = vol.Schema(
    {vol.Required("registrar"): str, vol.Optional("username"): str, vol.Optional("password"): str}
)

SIP_SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "test_sip",
        vol.Required("id"): str,
        vol.Optional("listen", default="0.0.0.0:5060"): str,
        vol.Optional("rtp_ports"): str,
        vol.Optional("trunk"): TRUNK,
        vol.Optional("lines", default=list): [str],
    }
)
SERIAL_SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "test_serial",
        vol.Required("id"): str,
        vol.Required("device"): str,
        vol.Optional("answer_after_rings", default=1): vol.All(int, vol.Range(min=1, max=10)),
    }
)
SINK_SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "test_disk",
        vol.Required("id"): str,
        vol.Optional("path", default="recordings"): str,
        vol.Optional("format", default="wav"): vol.In(["wav", "flac", "opus"]),
    }
)
HTTP_SCHEMA = vol.Schema(
    {vol.Required("platform"): "http", vol.Optional("listen", default="127.0.0.1:8080"): str}
)


def _factory(hub: Any, conf: dict[str, Any]) -> Any:
    raise AssertionError("config tests never build components")


class ConfigTestPlugin:
    @hookimpl
    def register_call_sources(self, register):
        register(Platform("source", "test_sip", SIP_SCHEMA, _factory))
        register(Platform("source", "test_serial", SERIAL_SCHEMA, _factory))

    @hookimpl
    def register_recording_sinks(self, register):
        register(Platform("sink", "test_disk", SINK_SCHEMA, _factory))


@pytest.fixture
def plugins() -> PluginManager:
    pm = PluginManager()
    pm.load(entry_points_too=False, extra=[ConfigTestPlugin()])
    pm.platforms["integration"]["http"] = Platform("integration", "http", HTTP_SCHEMA, _factory)
    return pm


@pytest.fixture
def write(tmp_path: Path):
    """Write a file under tmp_path (dedented) and return its path."""
    import textwrap

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write
