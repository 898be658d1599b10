"""The built-in ``http`` integration: web UI, HTTP API, users, roles and the audit log.

Configured by the top-level ``http:`` block (the hub builds it as ``{"platform": "http",
**block}``).  The command-line side (``users``, ``tokens``, ``subject``, ``audit``) is added
through ``register_commands``.
"""

from __future__ import annotations

from typing import Any

from salvesti.core.plugins import Platform, hookimpl
from salvesti.plugins.http.schema import SCHEMA
from salvesti.plugins.http.tls import check_config


def _factory(hub: Any, config: dict[str, Any]) -> Any:
    from salvesti.plugins.http.server import HttpServer

    return HttpServer.from_config(hub, config)


@hookimpl
def register_integrations(register: Any) -> None:
    # Importing these registers our tables' migrations with either store before it opens.
    from salvesti.plugins.http import db, db_postgresql, employees_db, subject_requests  # noqa: F401

    register(
        Platform(
            kind="integration",
            name="http",
            schema=SCHEMA,
            factory=_factory,
            description="Web UI and HTTP API with users, roles and a hash-chained audit log",
            extra={"check": check_config},  # the http.tls files
        )
    )


@hookimpl
def register_commands(subparsers: Any) -> None:
    from salvesti.plugins.http import cli_certs
    from salvesti.plugins.http.cli import add_commands

    add_commands(subparsers)
    cli_certs.add_commands(subparsers)
