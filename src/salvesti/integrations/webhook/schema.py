"""Config of a ``webhook`` integration item: where to POST, the signing secret, which events.

Example::

    integrations:
      - platform: webhook
        id: crm
        url: https://crm.example/hook
        secret: !secret hook
        events: [call_ended, recording_saved, analysis_done, recording_unhealthy]
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol

from salvesti.core import bus as events

#: The events a webhook may ask for (CONTRACT "Operations", plus the recording health check and
#: its daily summary, which is about no one call: its body is ``{"event", "summary"}``).
WEBHOOK_EVENTS = (
    events.CALL_ENDED,
    events.RECORDING_SAVED,
    events.ANALYSIS_DONE,
    events.RECORDING_UNHEALTHY,
    events.HEALTH_SUMMARY,
)
#: Without ``events:``, the call events: a receiver written for ``{"event", "call"}`` bodies
#: does not get the summary's other shape until it asks for it.
DEFAULT_EVENTS = [name for name in WEBHOOK_EVENTS if name != events.HEALTH_SUMMARY]


def http_url(value: Any) -> str:
    """An absolute ``http://`` or ``https://`` URL with a host."""
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise vol.Invalid(f"expected an http:// or https:// URL, got {text!r}")
    return text


def event_name(value: Any) -> str:
    if value not in WEBHOOK_EVENTS:
        raise vol.Invalid(f"unknown event {value!r}: use any of {', '.join(WEBHOOK_EVENTS)}")
    return str(value)


def _secret(value: Any) -> str:
    if not isinstance(value, str) or len(value) < 16:
        raise vol.Invalid("the secret must be at least 16 characters (the receiver checks the HMAC with it)")
    return value


SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "webhook",
        vol.Required("id"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Required("url"): http_url,
        vol.Required("secret"): _secret,
        vol.Optional("events", default=DEFAULT_EVENTS): vol.All(
            [event_name], vol.Length(min=1), lambda names: list(dict.fromkeys(names))
        ),
        #: Seconds one POST may take before it counts as failed (and is retried later).
        vol.Optional("timeout_s", default=10.0): vol.All(vol.Coerce(float), vol.Range(min=0.5, max=120)),
    }
)
