"""Plugins: one documented hookspec module, built-ins registered like third parties,
misspelled hooks caught at start, and dependencies that point inward."""

import ast
import inspect
from pathlib import Path

import pluggy
import pytest
import voluptuous as vol

from salvesti.core import hookspecs
from salvesti.core.plugins import Platform, PluginManager, hookimpl

SRC = Path(__file__).resolve().parents[2] / "src" / "salvesti"


def test_every_hook_is_documented() -> None:
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if hasattr(fn, "salvesti_spec"):
            doc = inspect.getdoc(fn) or ""
            assert len(doc) > 40, f"hook {name} needs a docstring saying when it is called"
            assert "result" in doc.lower() or "wins" in doc or "merged" in doc, name


def test_misspelled_hook_fails_loudly() -> None:
    class Typo:
        @hookimpl
        def register_call_source(self, register):  # missing 's'
            pass

    with pytest.raises(pluggy.PluginValidationError):
        PluginManager().load(entry_points_too=False, extra=[Typo()])


def test_third_party_platform_is_collected() -> None:
    class Extra:
        @hookimpl
        def register_recording_sinks(self, register):
            register(Platform(kind="sink", name="s3", schema=vol.Schema({}), factory=lambda hub, c: None))

    pm = PluginManager()
    pm.load(entry_points_too=False, extra=[Extra()])
    assert pm.get("sink", "s3") is not None
    assert any("sink:s3" in p["platforms"] for p in pm.describe())


def test_platform_of_wrong_kind_is_refused() -> None:
    class Wrong:
        @hookimpl
        def register_recording_sinks(self, register):
            register(Platform(kind="source", name="x", schema=vol.Schema({}), factory=lambda hub, c: None))

    with pytest.raises(ValueError, match="registered from the sink hook"):
        PluginManager().load(entry_points_too=False, extra=[Wrong()])


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_core_does_not_import_plugins_or_integrations() -> None:
    for path in (SRC / "core").rglob("*.py"):
        for mod in _imports(path):
            assert not mod.startswith(("salvesti.plugins", "salvesti.integrations")), f"{path}: {mod}"


def test_protocols_are_sans_io() -> None:
    forbidden = ("asyncio", "socket", "serial", "threading", "aiortc", "selectors")
    for path in (SRC / "core" / "protocols").rglob("*.py"):
        for mod in _imports(path):
            assert mod.split(".")[0] not in forbidden, f"{path} imports {mod}"
