"""Every Salvesti hook, in one documented module.

Plugins (built-in and third-party, found through the entry-point group ``salvesti.plugins``)
implement these with ``@salvesti.hookimpl``.  Registration hooks are called once at start and
hand the plugin a ``register`` callable; each call registers one :class:`~salvesti.core.plugins.Platform`
(its kind, name, voluptuous schema and factory), which is how ``check-config`` can validate a
plugin's config block before anything runs.  Audio never passes through pluggy: hot paths are
direct method calls on the objects a factory returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from salvesti.core.analyzers import AnalyzerSpec
    from salvesti.core.call import Call
    from salvesti.core.plugins import Platform

hookspec = pluggy.HookspecMarker("salvesti")

Register = Callable[["Platform"], None]


@hookspec
def register_call_sources(register: Register) -> None:
    """Register call-source platforms (``sources:`` items): SIP trunk, serial AT, WebRTC.

    Called once at start; results are ignored.  A source factory receives ``(hub, config)``
    and returns a component with ``async_setup()`` and ``async_unload()``.
    """


@hookspec
def register_recording_sinks(register: Register) -> None:
    """Register recording-sink platforms (``sinks:`` items), e.g. ``local``.

    Called once at start; results are ignored.
    """


@hookspec
def register_notice_players(register: Register) -> None:
    """Register notice platforms (``notices:`` items), e.g. ``audio_file``.

    Called once at start; results are ignored.
    """


@hookspec
def register_retention_rules(register: Register) -> None:
    """Register retention-rule platforms (``retention:`` items), e.g. ``max_age``.

    Called once at start; results are ignored.
    """


@hookspec
def register_stores(register: Register) -> None:
    """Register metadata-store platforms (the ``store:`` block), e.g. ``sqlite``.

    Called once at start; results are ignored.
    """


@hookspec
def register_integrations(register: Register) -> None:
    """Register outward integrations (``integrations:`` items) and singleton blocks such as ``http``.

    Called once at start; results are ignored.
    """


@hookspec
def register_analyzers(register: Callable[[AnalyzerSpec], None]) -> None:
    """Register after-call analysis steps (:class:`~salvesti.core.analyzers.AnalyzerSpec`).

    Called once in every analysis worker process (and by ``salvesti plugins list``); each
    step's factory gets the ``analysis:`` block and returns an
    :class:`~salvesti.core.analyzers.Analyzer`.  Steps run in ``order`` on the finished
    recording, off the media path, at low priority; the built-ins use orders 10-40.  Results
    are ignored.
    """


@hookspec
def register_commands(subparsers: Any) -> None:
    """Add sub-commands to the ``salvesti`` CLI (an ``argparse`` sub-parsers object).

    Called once when the CLI starts; results are ignored.  A command sets
    ``func=callable(args) -> int`` on its parser.
    """


@hookspec(firstresult=True)
def should_record(call: Call) -> bool | None:
    """Decide whether a call is recorded; the first non-None answer wins.

    Default (no plugin answers): inbound and outbound calls are recorded, internal calls
    only where the source's config says so.
    """


@hookspec(firstresult=True)
def select_notice(call: Call) -> str | None:
    """Pick the notice id to play for a call; the first non-None answer wins.

    Default (no plugin answers): the first configured notice whose ``directions`` and
    ``lines`` match the call.
    """


@hookspec
def call_metadata(call: Call) -> dict[str, Any] | None:
    """Extra metadata for a call when it ends; all answers are merged into ``call.meta``."""
