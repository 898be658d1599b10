"""Config of an ``mqtt`` integration item (one broker, one Home Assistant instance).

Example::

    integrations:
      - {platform: mqtt, id: ha, broker: 127.0.0.1:1883, discovery_prefix: homeassistant}

``expose_numbers`` defaults to ``masked`` because whatever we publish ends up in Home
Assistant's recorder database, outside Salvesti's retention rules (see docs/home-assistant.md).
"""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol

DEFAULT_PORT = 1883
EXPOSE_CHOICES = ("none", "masked", "full")

#: MQTT topic levels we build from config must not contain wildcards or empty levels.
_TOPIC_LEVEL = re.compile(r"^[^#+/\s]+(/[^#+/\s]+)*$")
#: Home Assistant accepts only these in discovery topic ids and unique ids.
_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def broker_address(value: Any) -> str:
    """Validator: ``host``, ``host:port`` or ``[v6]:port``; kept as text, see :func:`parse_broker`."""
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected host:port of the MQTT broker, e.g. 127.0.0.1:1883")
    parse_broker(value)
    return value.strip()


def parse_broker(value: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` → ``(host, port)``; the port defaults to 1883."""
    text = value.strip()
    host, port = text, DEFAULT_PORT
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise vol.Invalid(f"unclosed '[' in {text!r}")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise vol.Invalid(f"expected [address]:port, got {text!r}")
            port = _port(rest[1:])
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _port(port_text)
    if not host:
        raise vol.Invalid(f"missing host in {text!r}")
    return host, port


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise vol.Invalid(f"port must be a number from 1 to 65535, got {text!r}")
    return int(text)


def topic_prefix(value: Any) -> str:
    """A topic prefix such as ``salvesti`` or ``office/salvesti`` (no wildcards, no empty levels)."""
    if not isinstance(value, str) or not _TOPIC_LEVEL.match(value):
        raise vol.Invalid("expected an MQTT topic prefix without '+', '#', spaces or empty levels")
    return value


def item_id(value: Any) -> str:
    """Ids become part of topics and Home Assistant unique ids: letters, digits, '_' and '-'."""
    if not isinstance(value, str) or not _ID.match(value):
        raise vol.Invalid("expected an id of letters, digits, '_' or '-'")
    return value


SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "mqtt",
        vol.Required("id"): item_id,
        vol.Required("broker"): broker_address,
        vol.Optional("username"): vol.All(str, vol.Length(min=1)),
        vol.Optional("password"): str,
        vol.Optional("discovery_prefix", default="homeassistant"): topic_prefix,
        vol.Optional("topic_prefix", default="salvesti"): topic_prefix,
        vol.Optional("expose_numbers", default="masked"): vol.In(EXPOSE_CHOICES),
        vol.Optional("client_id"): vol.All(str, vol.Length(min=1, max=64)),
    }
)
