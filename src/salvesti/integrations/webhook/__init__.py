"""Signed webhooks: call events POSTed as JSON to a URL, kept in the store until delivered.

Config (``integrations:``)::

    - platform: webhook
      id: crm
      url: https://crm.example/hook
      secret: !secret hook            # at least 16 characters
      events: [call_ended, recording_saved, analysis_done, recording_unhealthy]   # default: all
      timeout_s: 10

Each POST's body is ``{"event": ..., "call": <the call object>}`` with
``X-Salvesti-Signature: sha256=<hex HMAC-SHA256 of the body>``; see docs/webhooks.md.
"""

from __future__ import annotations

from typing import Any

from salvesti.core.hookspecs import Register
from salvesti.core.plugins import Platform, hookimpl
from salvesti.integrations.webhook.schema import SCHEMA


def _factory(hub: Any, conf: dict[str, Any]) -> Any:
    from salvesti.integrations.webhook.integration import WebhookIntegration

    return WebhookIntegration.from_config(hub, conf)


@hookimpl
def register_integrations(register: Register) -> None:
    # Importing the outboxes registers their table's migrations with the stores before they open.
    from salvesti.integrations.webhook import outbox, outbox_postgresql  # noqa: F401

    register(
        Platform(
            kind="integration",
            name="webhook",
            schema=SCHEMA,
            factory=_factory,
            description="Signed JSON webhooks for call events, retried until delivered",
        )
    )
