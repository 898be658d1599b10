"""The shipped config.example.yaml validates with the real built-in plugins."""

from __future__ import annotations

from pathlib import Path

from salvesti.core.config import load_config
from salvesti.core.plugins import PluginManager

EXAMPLE = Path(__file__).resolve().parents[3] / "config.example.yaml"


def test_config_example_is_valid():
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    config = load_config(EXAMPLE, plugins)  # raises ConfigError listing every problem
    assert config["salvesti"]["data_dir"] == str(EXAMPLE.parent / "data")
    assert config["salvesti"]["timezone"] == "Europe/Tallinn"
    assert config["store"]["platform"] == "sqlite"
    assert [s["platform"] for s in config["sources"]] == ["sip_trunk"]
    assert [r["id"] for r in config["retention"]] == ["default"]
