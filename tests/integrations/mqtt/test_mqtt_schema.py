"""The ``mqtt`` config block: defaults, broker addresses and one-line errors from load_config."""

from __future__ import annotations

import pytest
import voluptuous as vol

from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError
from salvesti.core.plugins import PluginManager
from salvesti.integrations.mqtt.schema import SCHEMA, parse_broker

HEAD = "salvesti:\n  purpose: test\n  timezone: Europe/Tallinn\nintegrations:\n"


def load(tmp_path, body: str) -> dict:
    (tmp_path / "config.yaml").write_text(HEAD + body)
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    return load_config(tmp_path / "config.yaml", plugins)


def errors(tmp_path, body: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, body)
    return info.value.errors


def test_contract_example_validates_with_privacy_defaults(tmp_path):
    config = load(
        tmp_path, "  - {platform: mqtt, id: ha, broker: 127.0.0.1:1883, discovery_prefix: homeassistant}\n"
    )
    assert config["integrations"] == [
        {
            "platform": "mqtt",
            "id": "ha",
            "broker": "127.0.0.1:1883",
            "discovery_prefix": "homeassistant",
            "topic_prefix": "salvesti",
            "expose_numbers": "masked",
        }
    ]


def test_full_item_with_credentials_and_client_id():
    item = SCHEMA(
        {
            "platform": "mqtt",
            "id": "ha-2",
            "broker": "mqtt.lan",
            "username": "salvesti",
            "password": "pw",
            "topic_prefix": "office/salvesti",
            "expose_numbers": "full",
            "client_id": "salvesti-office",
        }
    )
    assert item["discovery_prefix"] == "homeassistant"
    assert parse_broker(item["broker"]) == ("mqtt.lan", 1883)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:1883", ("127.0.0.1", 1883)),
        ("broker.lan:8883", ("broker.lan", 8883)),
        ("broker.lan", ("broker.lan", 1883)),
        ("[::1]:1884", ("::1", 1884)),
        ("[fe80::1]", ("fe80::1", 1883)),
        ("::1", ("::1", 1883)),
    ],
)
def test_broker_addresses(text, expected):
    assert parse_broker(text) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("host:0", "port must be a number from 1 to 65535, got '0'"),
        ("host:mqtt", "port must be a number from 1 to 65535, got 'mqtt'"),
        (":1883", "missing host in ':1883'"),
        ("[::1", "unclosed '[' in '[::1'"),
        (1883, "expected host:port of the MQTT broker, e.g. 127.0.0.1:1883"),
    ],
)
def test_bad_broker_addresses(value, message):
    with pytest.raises(vol.Invalid) as info:
        SCHEMA({"platform": "mqtt", "id": "ha", "broker": value})
    assert message in str(info.value)


def test_errors_name_file_line_and_key(tmp_path):
    body = (
        "  - platform: mqtt\n"
        "    id: ha\n"
        "    broker: 127.0.0.1:1883\n"
        "    expose_number: full\n"
        "  - platform: mqtt\n"
        "    id: two\n"
        "    broker: 127.0.0.1:1883\n"
        "    expose_numbers: everything\n"
        "    topic_prefix: 'salvesti/#'\n"
    )
    assert errors(tmp_path, body) == [
        "config.yaml:8: integrations[0].expose_number: extra key not allowed, did you mean 'expose_numbers'?",
        "config.yaml:12: integrations[1].expose_numbers: value must be one of ['full', 'masked', 'none'],"
        " got 'everything'",
        "config.yaml:13: integrations[1].topic_prefix: expected an MQTT topic prefix without '+', '#',"
        " spaces or empty levels, got 'salvesti/#'",
    ]


def test_missing_broker_is_reported(tmp_path):
    assert errors(tmp_path, "  - {platform: mqtt, id: ha}\n") == [
        "config.yaml:5: integrations[0] (mqtt 'ha'): required key 'broker' not provided"
    ]


def test_ids_become_topics_so_they_are_restricted(tmp_path):
    assert errors(tmp_path, "  - {platform: mqtt, id: 'h a', broker: 'x:99999'}\n") == [
        "config.yaml:5: integrations[0].id: expected an id of letters, digits, '_' or '-', got 'h a'",
        "config.yaml:5: integrations[0].broker: port must be a number from 1 to 65535, got '99999'",
    ]
