"""Discovery against the real broker: exact retained payloads, availability, HA's birth message."""

from __future__ import annotations

from mqtt_harness import running_hub, settled, watch

from salvesti import __version__

LINE = "+3726000000"


def shared_root(p) -> dict:
    """What every device message carries: origin, availability and QoS."""
    return {
        "o": {"name": "Salvesti", "sw": __version__},
        "availability_topic": f"{p.topics}/ha/status",
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
    }


def expected_line_config(p, key: str = "3726000000", line: str = LINE) -> dict:
    dev = f"{p.topics}_ha_{key}"
    base = f"{p.topics}/ha/line/{key}"
    return {
        "dev": {
            "ids": [dev],
            "name": f"Salvesti line {line}",
            "mf": "Salvesti",
            "mdl": "Phone line",
            "sw": __version__,
            "via_device": f"{p.topics}_ha",
        },
        **shared_root(p),
        "cmps": {
            f"{dev}_call_active": {
                "p": "binary_sensor",
                "unique_id": f"{dev}_call_active",
                "name": "Call active",
                "icon": "mdi:phone-in-talk",
                "state_topic": f"{base}/state",
                "value_template": "{{ value_json.call_active }}",
                "json_attributes_topic": f"{base}/state",
                "json_attributes_template": "{{ {'active_calls': value_json.active_calls} | tojson }}",
            },
            f"{dev}_call_state": {
                "p": "sensor",
                "unique_id": f"{dev}_call_state",
                "name": "Call state",
                "icon": "mdi:phone",
                "device_class": "enum",
                "options": ["idle", "ringing", "talking"],
                "state_topic": f"{base}/state",
                "value_template": "{{ value_json.call_state }}",
            },
            f"{dev}_last_call": {
                "p": "sensor",
                "unique_id": f"{dev}_last_call",
                "name": "Last call",
                "icon": "mdi:phone-log",
                "state_topic": f"{base}/last_call",
                "value_template": "{{ value_json.display }}",
                "json_attributes_topic": f"{base}/last_call",
            },
            f"{dev}_calls_today": {
                "p": "sensor",
                "unique_id": f"{dev}_calls_today",
                "name": "Calls today",
                "icon": "mdi:phone-plus",
                "state_class": "total_increasing",
                "unit_of_measurement": "calls",
                "state_topic": f"{base}/state",
                "value_template": "{{ value_json.calls_today }}",
            },
            f"{dev}_missed_today": {
                "p": "sensor",
                "unique_id": f"{dev}_missed_today",
                "name": "Missed today",
                "icon": "mdi:phone-missed",
                "state_class": "total_increasing",
                "unit_of_measurement": "calls",
                "state_topic": f"{base}/state",
                "value_template": "{{ value_json.missed_today }}",
            },
            f"{dev}_recording_paused": {
                "p": "switch",
                "unique_id": f"{dev}_recording_paused",
                "name": "Recording paused",
                "icon": "mdi:record-rec",
                "state_topic": f"{base}/state",
                "value_template": "{{ value_json.recording_paused }}",
                "command_topic": f"{base}/pause/set",
                "payload_on": "ON",
                "payload_off": "OFF",
            },
            f"{dev}_call": {
                "p": "event",
                "unique_id": f"{dev}_call",
                "name": "Call",
                "icon": "mdi:phone-ring",
                "event_types": [
                    "incoming",
                    "outgoing",
                    "answered",
                    "missed",
                    "ended",
                    "recording_saved",
                    "recording_unhealthy",
                ],
                "state_topic": f"{base}/event",
            },
        },
    }


def expected_hub_config(p) -> dict:
    node = f"{p.topics}_ha"
    return {
        "dev": {
            "ids": [node],
            "name": "Salvesti",
            "mf": "Salvesti",
            "mdl": "Call recorder",
            "sw": __version__,
        },
        **shared_root(p),
        "cmps": {
            f"{node}_source_office": {
                "p": "binary_sensor",
                "unique_id": f"{node}_source_office",
                "name": "Source office",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                "state_topic": f"{p.topics}/ha/hub",
                "value_template": '{{ value_json.sources["office"].connected }}',
                "json_attributes_topic": f"{p.topics}/ha/hub",
                "json_attributes_template": '{{ value_json.sources["office"] | tojson }}',
            },
            f"{node}_last_retention_purge": {
                "p": "sensor",
                "unique_id": f"{node}_last_retention_purge",
                "name": "Last retention purge",
                "device_class": "timestamp",
                "entity_category": "diagnostic",
                "state_topic": f"{p.topics}/ha/hub",
                "value_template": "{{ value_json.last_retention_purge }}",
            },
            f"{node}_unhealthy_recordings": {
                "p": "sensor",
                "unique_id": f"{node}_unhealthy_recordings",
                "name": "Unhealthy recordings (last day)",
                "icon": "mdi:record-circle-outline",
                "state_class": "measurement",
                "entity_category": "diagnostic",
                "state_topic": f"{p.topics}/ha/health_summary",
                "value_template": "{{ value_json.unhealthy }}",
                "json_attributes_topic": f"{p.topics}/ha/health_summary",
                "json_attributes_template": "{{ value_json.by_reason | tojson }}",
            },
        },
    }


SOURCES = {"sources": [{"platform": "test_lines", "id": "office", "lines": ["6000000"]}]}


async def test_retained_discovery_state_and_availability_reach_a_late_subscriber(tmp_path, prefixes):
    p = prefixes
    async with running_hub(tmp_path, p.conf(), **SOURCES) as hub:
        async with watch(f"{p.topics}/#") as early:
            # the source reaches "loaded" after the integration: the hub state follows
            await early.json_on(
                f"{p.topics}/ha/hub",
                sources={"office": {"state": "loaded", "reason": None, "connected": "ON"}},
            )
        # A subscriber that arrives now (Home Assistant starting later) gets it all, retained.
        async with watch(f"{p.discovery}/#", f"{p.topics}/#") as ha:
            status = await ha.wait(f"{p.topics}/ha/status")
            assert (status.payload, status.retain) == (b"online", True)
            line_config = await ha.wait(f"{p.discovery}/device/{p.topics}_ha_3726000000/config")
            assert line_config.retain
            assert line_config.json() == expected_line_config(p)
            hub_config = await ha.wait(f"{p.discovery}/device/{p.topics}_ha/config")
            assert hub_config.retain
            assert hub_config.json() == expected_hub_config(p)
            state = await ha.wait(f"{p.topics}/ha/line/3726000000/state")
            assert state.retain
            assert state.json() == {
                "call_active": "OFF",
                "active_calls": 0,
                "call_state": "idle",
                "calls_today": 0,
                "missed_today": 0,
                "recording_paused": "OFF",
            }
            hub_state = await ha.wait(f"{p.topics}/ha/hub")
            assert hub_state.json() == {
                "sources": {"office": {"state": "loaded", "reason": None, "connected": "ON"}},
                "last_retention_purge": None,
            }
        assert hub.integrations["ha"].connection.connected


async def test_clean_stop_publishes_offline_retained(tmp_path, prefixes):
    p = prefixes
    async with watch(f"{p.topics}/ha/status") as watcher:
        async with running_hub(tmp_path, p.conf()):
            await watcher.wait(f"{p.topics}/ha/status", lambda m: m.payload == b"online")
        await watcher.wait(f"{p.topics}/ha/status", lambda m: m.payload == b"offline")
    async with watch(f"{p.topics}/ha/status") as late:  # what a subscriber arriving later is told
        stored = await late.wait(f"{p.topics}/ha/status")
        assert (stored.payload, stored.retain) == (b"offline", True)


async def test_home_assistant_birth_message_triggers_fresh_discovery(tmp_path, prefixes):
    p = prefixes
    async with running_hub(tmp_path, p.conf(), **SOURCES) as hub:
        await settled(hub)
        async with watch(f"{p.discovery}/device/#") as ha:
            first = await ha.wait(f"{p.discovery}/device/{p.topics}_ha_3726000000/config")
            assert first.retain  # the retained copy
            mark = len(ha.messages)
            await ha.client.publish(f"{p.discovery}/status", b"online", qos=1)
            again = await ha.wait(f"{p.discovery}/device/{p.topics}_ha_3726000000/config", after=mark)
            assert not again.retain  # a live re-send, not the broker's stored copy
            assert again.json() == expected_line_config(p)
