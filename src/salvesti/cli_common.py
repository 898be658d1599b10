"""What every ``salvesti`` sub-command shares: the ``-c`` option, loading the config with
problems printed the CONTRACT way, and opening the store without starting anything else.

Plugins that add commands through ``register_commands`` use these too, so their commands
behave like the built-in ones (exit 2 and one line per config problem on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salvesti.core.config import ConfigMarks, load_config_with_marks
from salvesti.core.errors import ConfigError
from salvesti.core.plugins import PluginManager

#: Exit codes: 0 ok, 1 the command failed, 2 bad usage or an invalid config.
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


class CommandError(Exception):
    """A command cannot go on; the message is printed on stderr, then the process exits."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Loaded:
    """A validated config and where it came from."""

    config: dict[str, Any]
    path: Path
    plugins: PluginManager
    #: Where each setting sits in the file, for pages that show what they cannot edit.
    marks: ConfigMarks = field(default_factory=ConfigMarks.unknown)


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path("config.yaml"),
        metavar="FILE",
        help="configuration file (default: ./config.yaml)",
    )


def load_plugins() -> PluginManager:
    plugins = PluginManager()
    plugins.load()
    for problem in plugins.load_errors:
        print(f"warning: {problem}", file=sys.stderr)
    return plugins


def load(args: argparse.Namespace, plugins: PluginManager | None = None) -> Loaded:
    """Load ``args.config``; on problems raise CommandError(exit 2) with one line each.

    Warnings do not stop the command: each is printed on stderr as ``warning: FILE:LINE: ...``.
    """
    plugins = plugins or getattr(args, "plugins", None) or load_plugins()
    warnings: list[str] = []
    try:
        config, marks = load_config_with_marks(args.config, plugins, warnings)
    except ConfigError as err:
        raise CommandError("\n".join(err.errors), EXIT_CONFIG) from None
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    return Loaded(config, args.config, plugins, marks)


def bare_hub(loaded: Loaded) -> Any:
    """A hub that is built but not started: gives factories its helpers (paths, tz, numbers)."""
    from salvesti.core.hub import Hub

    return Hub(loaded.config, config_path=loaded.path.resolve(), plugins=loaded.plugins, marks=loaded.marks)


async def setup_component(hub: Any, kind: str, conf: dict[str, Any]) -> Any:
    """Build one configured component through its platform and set it up."""
    platform = hub.plugins.get(kind, conf["platform"])
    if platform is None:
        raise CommandError(f"no {kind} platform {conf['platform']!r} is installed")
    component = platform.factory(hub, conf)
    await component.async_setup()
    return component


@asynccontextmanager
async def open_store(loaded: Loaded, hub: Any = None) -> AsyncIterator[Any]:
    """The configured store, open, for commands that only read or edit calls."""
    hub = hub or bare_hub(loaded)
    try:
        store = await setup_component(hub, "store", loaded.config["store"])
    except CommandError:
        raise
    except Exception as err:
        raise CommandError(f"store could not be opened: {type(err).__name__}: {err}") from err
    hub.store = store
    try:
        yield store
    finally:
        await store.async_unload()
