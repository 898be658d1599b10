"""Plugin manager and platform registry.

Built-ins are registered exactly like third-party plugins: both are modules listed under the
entry-point group ``salvesti.plugins`` (built-ins also from :data:`BUILTIN_PLUGINS`, so an
uninstalled source checkout still works).  ``check_pending`` catches hook implementations
whose name matches no hookspec, so a misspelled hook fails loudly at start.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy
import voluptuous as vol

from salvesti.core import hookspecs
from salvesti.core.analyzers import AnalyzerSpec

_LOGGER = logging.getLogger(__name__)

hookimpl = pluggy.HookimplMarker("salvesti")

ENTRY_POINT_GROUP = "salvesti.plugins"

#: Modules that provide the built-in platforms.  Each is also declared as an entry point.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "salvesti.plugins.store_sqlite",
    "salvesti.plugins.store_postgresql",
    "salvesti.plugins.sink_local",
    "salvesti.plugins.sink_s3",
    "salvesti.plugins.notice_file",
    "salvesti.plugins.retention_max_age",
    "salvesti.integrations.sip",
    "salvesti.integrations.serial_at",
    "salvesti.integrations.webrtc",
    "salvesti.plugins.http",
    "salvesti.integrations.mqtt",
    "salvesti.integrations.webhook",
    "salvesti.plugins.analysis",
)

KINDS = ("source", "sink", "notice", "retention", "store", "integration")

_HOOK_FOR_KIND = {
    "source": "register_call_sources",
    "sink": "register_recording_sinks",
    "notice": "register_notice_players",
    "retention": "register_retention_rules",
    "store": "register_stores",
    "integration": "register_integrations",
}


@dataclass
class Platform:
    """A named, configurable thing a plugin provides.

    ``schema`` validates the platform's config block (the whole item, including
    ``platform`` and ``id``); ``factory(hub, config)`` builds the running component.
    """

    kind: str
    name: str
    schema: vol.Schema
    factory: Callable[..., Any]
    description: str = ""
    plugin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class PluginManager:
    """Loads plugins and collects their platforms by kind and name."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("salvesti")
        self.pm.add_hookspecs(hookspecs)
        self.platforms: dict[str, dict[str, Platform]] = {k: {} for k in KINDS}
        self.load_errors: list[str] = []

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def load(self, *, entry_points_too: bool = True, extra: list[Any] | None = None) -> None:
        """Register built-ins, entry-point plugins and ``extra`` objects, then collect platforms."""
        for modname in BUILTIN_PLUGINS:
            try:
                module = importlib.import_module(modname)
            except ModuleNotFoundError as err:
                if err.name and modname.startswith(err.name):
                    continue  # built-in not present in this build
                raise
            if not self.pm.is_registered(module):
                self.pm.register(module, name=modname)
        if entry_points_too:
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                if self.pm.get_plugin(ep.value) is not None or ep.value in BUILTIN_PLUGINS:
                    continue
                try:
                    plugin = ep.load()
                except Exception as err:  # a broken third-party plugin must not stop the box
                    self.load_errors.append(f"plugin {ep.name} ({ep.value}): {err}")
                    _LOGGER.error("could not load plugin %s: %s", ep.name, err)
                    continue
                self.pm.register(plugin, name=ep.value)
        for plugin in extra or []:
            self.pm.register(plugin)
        self.pm.check_pending()
        self._collect()

    def _collect(self) -> None:
        for kind, hook_name in _HOOK_FOR_KIND.items():
            hook = getattr(self.pm.hook, hook_name)
            for impl in hook.get_hookimpls():

                def register(platform: Platform, _plugin: str = impl.plugin_name, _kind: str = kind) -> None:
                    if platform.kind != _kind:
                        raise ValueError(
                            f"{_plugin}: platform {platform.name!r} is a {platform.kind}, "
                            f"registered from the {_kind} hook"
                        )
                    platform.plugin = _plugin
                    self.platforms[_kind][platform.name] = platform

                impl.function(register=register)

    def analyzers(self) -> list[AnalyzerSpec]:
        """Every registered analysis step, in order (a later plugin's name replaces an earlier)."""
        found: dict[str, AnalyzerSpec] = {}

        def register(spec: AnalyzerSpec) -> None:
            if not isinstance(spec, AnalyzerSpec):
                raise TypeError(f"register_analyzers: expected an AnalyzerSpec, got {spec!r}")
            found[spec.name] = spec

        self.pm.hook.register_analyzers(register=register)
        return sorted(found.values(), key=lambda s: (s.order, s.name))

    def get(self, kind: str, name: str) -> Platform | None:
        return self.platforms.get(kind, {}).get(name)

    def describe(self) -> list[dict[str, Any]]:
        """For ``salvesti plugins list``: every plugin, its version and the hooks it implements."""
        out = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            provides = sorted(
                f"{kind}:{p.name}"
                for kind, ps in self.platforms.items()
                for p in ps.values()
                if p.plugin == name
            )
            out.append(
                {
                    "name": name,
                    "version": _version_of(plugin),
                    "builtin": name in BUILTIN_PLUGINS,
                    "hooks": hooks,
                    "platforms": provides,
                }
            )
        return out


def _version_of(plugin: Any) -> str:
    version = getattr(plugin, "__version__", None)
    if version:
        return str(version)
    from salvesti import __version__

    modname = getattr(plugin, "__name__", "")
    return __version__ if modname.startswith("salvesti.") else "unknown"
