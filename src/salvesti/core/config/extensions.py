"""Which extensions a config defines, across sources (for cross-block checks).

An extension may belong to any source that owns phones: desk phones of a ``sip_trunk``
source, browser phones of a ``webrtc`` source.  ``inbound`` lists and the serial source's
``extensions`` may name any of them, so their checks ask here instead of knowing each
platform's layout: an owning platform registers how to read its item once, at import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

ExtensionReader = Callable[[dict[str, Any]], list[str]]

_OWNERS: dict[str, ExtensionReader] = {}
_LOADED = False


def register_owner(platform: str, read: ExtensionReader) -> None:
    """``read(item)`` gives the extensions a validated source item of ``platform`` defines."""
    _OWNERS[platform] = read


def _builtin_owners() -> None:
    """The built-in platforms register when their package is imported, as the plugin manager
    does at start; a check run on its own (a test, a tool) must see them too."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from salvesti.core.plugins import BUILTIN_PLUGINS

    for name in BUILTIN_PLUGINS:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional plugin's dependency is missing: it owns nothing then
            continue


def owned_extensions(config: dict[str, Any]) -> dict[str, str]:
    """Every extension defined in ``config``'s sources, with the id of the source owning it."""
    _builtin_owners()
    found: dict[str, str] = {}
    for item in config.get("sources") or []:
        if not isinstance(item, dict):
            continue
        read = _OWNERS.get(str(item.get("platform")))
        if read is None:
            continue
        for user in read(item):
            found.setdefault(user, str(item.get("id")))
    return found
