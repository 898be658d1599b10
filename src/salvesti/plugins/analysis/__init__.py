"""The built-in ``analysis`` integration: learning from calls, after they end, off the media path.

Configured by the top-level ``analysis:`` block (see :mod:`.schema`).  It provides the
integration (queue and workers inside ``salvesti run``), the built-in analysis steps through
``register_analyzers``, and the ``salvesti analysis run|status`` commands.
"""

from __future__ import annotations

from typing import Any

from salvesti.core.plugins import Platform, hookimpl
from salvesti.plugins.analysis.schema import SCHEMA, cross_check


def _factory(hub: Any, config: dict[str, Any]) -> Any:
    from salvesti.plugins.analysis.engine import AnalysisEngine

    return AnalysisEngine.from_config(hub, config)


@hookimpl
def register_integrations(register: Any) -> None:
    register(
        Platform(
            kind="integration",
            name="analysis",
            schema=SCHEMA,
            factory=_factory,
            description="After-call analysis: talk metrics, notice evidence, transcripts, trackers",
            extra={"check": cross_check},
        )
    )


@hookimpl
def register_analyzers(register: Any) -> None:
    from salvesti.plugins.analysis.builtin import SPECS

    for spec in SPECS:
        register(spec)


@hookimpl
def register_commands(subparsers: Any) -> None:
    from salvesti.plugins.analysis.cli import add_commands

    add_commands(subparsers)
