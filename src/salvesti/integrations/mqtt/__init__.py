"""Home Assistant over MQTT: discovery, per-line call state and call events.

Config (``integrations:``)::

    - platform: mqtt
      id: ha
      broker: 127.0.0.1:1883
      discovery_prefix: homeassistant   # default
      topic_prefix: salvesti            # default
      expose_numbers: masked            # none | masked | full
      username: salvesti                # optional, with password
      password: !secret mqtt_password

What appears in Home Assistant is described in docs/home-assistant.md.
"""

from __future__ import annotations

from salvesti.core.hookspecs import Register
from salvesti.core.plugins import Platform, hookimpl
from salvesti.integrations.mqtt.integration import MqttIntegration
from salvesti.integrations.mqtt.schema import SCHEMA


@hookimpl
def register_integrations(register: Register) -> None:
    register(
        Platform(
            kind="integration",
            name="mqtt",
            schema=SCHEMA,
            factory=MqttIntegration.from_config,
            description="Home Assistant over MQTT: discovery, per-line call state, call events",
        )
    )
