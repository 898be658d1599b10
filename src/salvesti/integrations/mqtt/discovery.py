"""Home Assistant MQTT discovery payloads, as pure functions of the config.

We use device-based discovery (one retained message per device on
``<discovery_prefix>/device/<object id>/config`` carrying ``dev``, ``o`` and ``cmps``): one
hub device for Salvesti itself (diagnostics) and one device per phone line (``via_device`` →
the hub), so a multi-line office gets one tidy device page per line.  Every device shares the
availability topic that the broker's last will flips to ``offline`` when we vanish.

Topics under ``<topic_prefix>/<id>/``:

=========================  ========  ======================================================
``status``                 retained  ``online`` / ``offline`` (last will)
``hub``                    retained  sources' status, last retention purge
``line/<key>/state``       retained  call_active, active_calls, call_state, counters
``line/<key>/last_call``   not       the last call (number per ``expose_numbers``)
``line/<key>/event``       not       event entity: ``{"event_type": ..., ...}``
``health_summary``         retained  the daily recording-health summary (counts only)
=========================  ========  ======================================================

Personal data (numbers) only ever travels on the two non-retained topics, so the broker
never stores it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from salvesti import __version__

EVENT_TYPES = (
    "incoming",
    "outgoing",
    "answered",
    "missed",
    "ended",
    "recording_saved",
    "recording_unhealthy",
)
CALL_STATES = ("idle", "ringing", "talking")
ONLINE = "online"
OFFLINE = "offline"

_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")


def slug(text: str) -> str:
    """The characters Home Assistant accepts in discovery ids: ``+372 600`` → ``372600``."""
    return _NOT_ID.sub("", text.replace("/", "_")) or "x"


def line_key(line: str) -> str:
    """Topic level and id part for a line: E.164 without the ``+`` (``3726000000``)."""
    return slug(line)


@dataclass(frozen=True)
class Topics:
    """Every topic one integration uses, derived from its config."""

    discovery_prefix: str
    topic_prefix: str
    integration_id: str

    @property
    def base(self) -> str:
        return f"{self.topic_prefix}/{self.integration_id}"

    @property
    def node(self) -> str:
        """Device id of the hub; lines are ``<node>_<line key>``.  Includes the topic prefix so
        two installations that both call their integration ``ha`` stay apart in HA."""
        return slug(f"{self.topic_prefix}_{self.integration_id}")

    @property
    def availability(self) -> str:
        return f"{self.base}/status"

    @property
    def hub_state(self) -> str:
        return f"{self.base}/hub"

    @property
    def birth(self) -> str:
        """Home Assistant announces its (re)start here; we answer with fresh discovery."""
        return f"{self.discovery_prefix}/status"

    @property
    def hub_config(self) -> str:
        return f"{self.discovery_prefix}/device/{self.node}/config"

    @property
    def health_summary(self) -> str:
        return f"{self.base}/health_summary"

    def line_device_id(self, key: str) -> str:
        return f"{self.node}_{key}"

    def line_config(self, key: str) -> str:
        return f"{self.discovery_prefix}/device/{self.line_device_id(key)}/config"

    def line_state(self, key: str) -> str:
        return f"{self.base}/line/{key}/state"

    def last_call(self, key: str) -> str:
        return f"{self.base}/line/{key}/last_call"

    def pause_command(self, key: str) -> str:
        """Where Home Assistant's "Recording paused" switch sends ON / OFF for a line."""
        return f"{self.base}/line/{key}/pause/set"

    @property
    def pause_commands(self) -> str:
        return f"{self.base}/line/+/pause/set"

    def event(self, key: str) -> str:
        return f"{self.base}/line/{key}/event"


def origin() -> dict[str, Any]:
    return {"name": "Salvesti", "sw": __version__}


def _shared(topics: Topics, device: dict[str, Any], cmps: dict[str, Any]) -> dict[str, Any]:
    return {
        "dev": device,
        "o": origin(),
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "qos": 1,
        "cmps": cmps,
    }


def hub_discovery(topics: Topics, source_ids: list[str]) -> dict[str, Any]:
    """The hub device: one connectivity sensor per call source and the last retention purge."""
    node = topics.node
    device = {
        "ids": [node],
        "name": "Salvesti",
        "mf": "Salvesti",
        "mdl": "Call recorder",
        "sw": __version__,
    }
    cmps: dict[str, Any] = {}
    for source_id in source_ids:
        quoted = json.dumps(source_id)
        uid = f"{node}_source_{slug(source_id)}"
        cmps[uid] = {
            "p": "binary_sensor",
            "unique_id": uid,
            "name": f"Source {source_id}",
            "device_class": "connectivity",
            "entity_category": "diagnostic",
            "state_topic": topics.hub_state,
            "value_template": f"{{{{ value_json.sources[{quoted}].connected }}}}",
            "json_attributes_topic": topics.hub_state,
            "json_attributes_template": f"{{{{ value_json.sources[{quoted}] | tojson }}}}",
        }
    uid = f"{node}_last_retention_purge"
    cmps[uid] = {
        "p": "sensor",
        "unique_id": uid,
        "name": "Last retention purge",
        "device_class": "timestamp",
        "entity_category": "diagnostic",
        "state_topic": topics.hub_state,
        "value_template": "{{ value_json.last_retention_purge }}",
    }
    uid = f"{node}_unhealthy_recordings"
    cmps[uid] = {
        "p": "sensor",
        "unique_id": uid,
        "name": "Unhealthy recordings (last day)",
        "icon": "mdi:record-circle-outline",
        "state_class": "measurement",
        "entity_category": "diagnostic",
        "state_topic": topics.health_summary,
        "value_template": "{{ value_json.unhealthy }}",
        "json_attributes_topic": topics.health_summary,
        "json_attributes_template": "{{ value_json.by_reason | tojson }}",
    }
    return _shared(topics, device, cmps)


def line_discovery(topics: Topics, key: str, line: str) -> dict[str, Any]:
    """One device per line with its call entities."""
    dev_id = topics.line_device_id(key)
    device = {
        "ids": [dev_id],
        "name": f"Salvesti line {line}",
        "mf": "Salvesti",
        "mdl": "Phone line",
        "sw": __version__,
        "via_device": topics.node,
    }
    state = topics.line_state(key)
    cmps = {
        f"{dev_id}_call_active": {
            "p": "binary_sensor",
            "unique_id": f"{dev_id}_call_active",
            "name": "Call active",
            "icon": "mdi:phone-in-talk",
            "state_topic": state,
            "value_template": "{{ value_json.call_active }}",
            "json_attributes_topic": state,
            "json_attributes_template": "{{ {'active_calls': value_json.active_calls} | tojson }}",
        },
        f"{dev_id}_call_state": {
            "p": "sensor",
            "unique_id": f"{dev_id}_call_state",
            "name": "Call state",
            "icon": "mdi:phone",
            "device_class": "enum",
            "options": list(CALL_STATES),
            "state_topic": state,
            "value_template": "{{ value_json.call_state }}",
        },
        f"{dev_id}_last_call": {
            "p": "sensor",
            "unique_id": f"{dev_id}_last_call",
            "name": "Last call",
            "icon": "mdi:phone-log",
            "state_topic": topics.last_call(key),
            "value_template": "{{ value_json.display }}",
            "json_attributes_topic": topics.last_call(key),
        },
        f"{dev_id}_calls_today": {
            "p": "sensor",
            "unique_id": f"{dev_id}_calls_today",
            "name": "Calls today",
            "icon": "mdi:phone-plus",
            "state_class": "total_increasing",
            "unit_of_measurement": "calls",
            "state_topic": state,
            "value_template": "{{ value_json.calls_today }}",
        },
        f"{dev_id}_missed_today": {
            "p": "sensor",
            "unique_id": f"{dev_id}_missed_today",
            "name": "Missed today",
            "icon": "mdi:phone-missed",
            "state_class": "total_increasing",
            "unit_of_measurement": "calls",
            "state_topic": state,
            "value_template": "{{ value_json.missed_today }}",
        },
        f"{dev_id}_recording_paused": {
            "p": "switch",
            "unique_id": f"{dev_id}_recording_paused",
            "name": "Recording paused",
            "icon": "mdi:record-rec",
            "state_topic": state,
            "value_template": "{{ value_json.recording_paused }}",
            "command_topic": topics.pause_command(key),
            "payload_on": "ON",
            "payload_off": "OFF",
        },
        f"{dev_id}_call": {
            "p": "event",
            "unique_id": f"{dev_id}_call",
            "name": "Call",
            "icon": "mdi:phone-ring",
            "event_types": list(EVENT_TYPES),
            "state_topic": topics.event(key),
        },
    }
    return _shared(topics, device, cmps)
