"""load_config: every problem is one exact line ``FILE:LINE: dotted.key: message``."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError

GOOD = """
salvesti:
  data_dir: ./data
  timezone: Europe/Tallinn
  purpose: "Klienditeeninduse kvaliteedi parandamine"
http:
  listen: 127.0.0.1:8081
sources:
  - platform: test_sip
    id: telia
    rtp_ports: 10000-10999
    trunk: {registrar: sip.example.ee, username: "3726000000", password: !secret trunk_password}
    lines: ["+3726000000"]
  - platform: test_serial
    id: gsm
    device: /dev/ttyUSB0
sinks:
  - {platform: test_disk, id: disk, path: recordings, format: wav}
"""


def errors_of(path: Path, plugins) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, plugins)
    return info.value.errors


def test_valid_config_returns_plain_validated_dicts(write, plugins, tmp_path):
    write("secrets.yaml", "trunk_password: hunter2\n")
    config = load_config(write("config.yaml", GOOD), plugins)
    assert config["salvesti"] == {
        "data_dir": str(tmp_path / "data"),
        "timezone": "Europe/Tallinn",
        "purpose": "Klienditeeninduse kvaliteedi parandamine",
        "default_country": "EE",
        "shutdown_grace": 5.0,
        "event_loop": "auto",
        "pause_max_s": 300.0,
    }
    assert config["store"] == {"platform": "sqlite"} or config["store"]["platform"] == "sqlite"
    assert config["http"] == {"listen": "127.0.0.1:8081"}
    telia, gsm = config["sources"]
    assert telia["trunk"]["password"] == "hunter2"
    assert type(telia["trunk"]["password"]) is str
    assert type(config["sources"]) is list and type(telia) is dict
    assert telia["listen"] == "0.0.0.0:5060"  # the platform schema's default
    assert gsm == {"platform": "test_serial", "id": "gsm", "device": "/dev/ttyUSB0", "answer_after_rings": 1}
    assert config["sinks"][0]["id"] == "disk"
    assert config["notices"] == [] and config["retention"] == [] and config["integrations"] == []


def test_extra_key_with_did_you_mean(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
        sources:
          - platform: test_sip
            id: telia
            rtp_prots: 10000-10999
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:6: sources[0].rtp_prots: extra key not allowed, did you mean 'rtp_ports'?"
    ]


def test_missing_key_points_at_the_items_line_with_its_label(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
        sources:
          - platform: test_sip
            id: telia
          - platform: test_serial
            id: line_1
            answer_after_rings: 2
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:6: sources[1] (test_serial 'line_1'): required key 'device' not provided"
    ]


def test_missing_nested_key_points_at_its_parent_block(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
        sources:
          - platform: test_sip
            id: telia
            trunk:
              username: "3726000000"
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:6: sources[0].trunk: required key 'registrar' not provided"
    ]


def test_unknown_platform_suggests_a_registered_one(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
        sinks:
          - {platform: test_dsk, id: disk}
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:4: sinks[0].platform: unknown sink platform 'test_dsk', did you mean 'test_disk'?"
    ]


def test_structure_problems_all_reported_in_line_order(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
          timezone: Europe/Tallin
          default_country: XX
        sourcse: []
        sinks:
          - {platform: test_disk, id: disk}
          - {platform: test_disk, id: disk, format: mp3}
          - {id: nameless}
          - platform: test_disk
          - just a string
        notices: {platform: x}
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:3: salvesti.timezone: unknown time zone 'Europe/Tallin', did you mean 'Europe/Tallinn'?",
        "config.yaml:4: salvesti.default_country: unknown country 'XX': "
        "use one of DE, EE, FI, GB, LT, LV, SE or a calling code such as '372'",
        "config.yaml:5: sourcse: extra key not allowed, did you mean 'sources'?",
        "config.yaml:8: sinks[1].format: value must be one of ['flac', 'opus', 'wav'], got 'mp3'",
        "config.yaml:8: sinks[1].id: duplicate id 'disk' (also used by sinks[0])",
        "config.yaml:9: sinks[2]: required key 'platform' not provided",
        "config.yaml:10: sinks[3] (test_disk): required key 'id' not provided",
        "config.yaml:11: sinks[4]: expected a mapping with 'platform' and 'id'",
        "config.yaml:12: notices: expected a list of '- platform: ...' items",
    ]


def test_value_errors_show_the_value_and_the_keys_line(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
        sources:
          - platform: test_serial
            id: gsm
            device: /dev/ttyUSB0
            answer_after_rings: many
          - platform: test_serial
            id: gsm2
            device: /dev/ttyUSB1
            answer_after_rings: 11
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:7: sources[0].answer_after_rings: expected int, got 'many'",
        "config.yaml:11: sources[1].answer_after_rings: value must be at most 10, got 11",
    ]


def test_salvesti_block_and_purpose_are_required(write, plugins):
    assert errors_of(write("config.yaml", "sinks: []\n"), plugins) == [
        "config.yaml:1: required key 'salvesti' not provided (it holds purpose:)"
    ]
    path = write(
        "config.yaml",
        """
        salvesti:
          data_dir: /tmp/x
        """,
    )
    assert errors_of(path, plugins) == ["config.yaml:1: salvesti: required key 'purpose' not provided"]
    assert errors_of(write("config.yaml", "salvesti:\n  purpose: ''\n"), plugins) == [
        "config.yaml:2: salvesti.purpose: must be a non-empty text: the lawful purpose of recording calls"
    ]


def test_empty_file_and_non_mapping_file(write, plugins):
    assert errors_of(write("config.yaml", ""), plugins) == [
        "config.yaml:1: required key 'salvesti' not provided (it holds purpose:)"
    ]
    assert errors_of(write("config.yaml", "- a\n- b\n"), plugins) == [
        "config.yaml:1: the file must be a mapping of blocks (salvesti:, ...)"
    ]


def test_yaml_syntax_error_names_file_and_line(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
        sources:
          - platform: test_sip
            id: [telia
        sinks: []
        """,
    )
    (line,) = errors_of(path, plugins)
    assert line.startswith("config.yaml:6: invalid YAML: ")


def test_missing_file(tmp_path, plugins):
    (line,) = errors_of(tmp_path / "nope.yaml", plugins)
    assert line == f"{tmp_path / 'nope.yaml'}:1: cannot read the file: No such file or directory"


def test_duplicate_keys_are_errors(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
          purpose: y
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:3: salvesti.purpose: duplicate key (first given at line 2)"
    ]


def test_http_block_is_validated_by_the_http_integration_platform(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
        http:
          lisen: 127.0.0.1:8080
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:4: http.lisen: extra key not allowed, did you mean 'listen'?"
    ]
    del plugins.platforms["integration"]["http"]
    assert errors_of(path, plugins) == ["config.yaml:3: http: no plugin provides the 'http' integration"]


def test_store_block_defaults_and_unknown_keys(write, plugins):
    for name in ("sqlite", "postgresql"):
        plugins.platforms["store"].pop(name, None)
    path = write("config.yaml", "salvesti: {purpose: x}\nstore: {platform: sqlite}\n")
    assert errors_of(path, plugins) == [
        "config.yaml:2: store.platform: unknown store platform 'sqlite' (no plugin provides any)"
    ]


def test_bare_http_block_turns_it_on_with_defaults(write, plugins):
    config = load_config(write("config.yaml", "salvesti: {purpose: x}\nhttp:\n"), plugins)
    assert config["http"] == {"listen": "127.0.0.1:8080"}
    config = load_config(write("config.yaml", "salvesti: {purpose: x}\n"), plugins)
    assert config["http"] is None


def test_keys_that_are_not_names_are_quoted_in_the_path(write, plugins):
    import voluptuous as vol

    from salvesti.core.plugins import Platform

    schema = vol.Schema({"platform": "routes", "id": str, "inbound": {str: [vol.Match(r"^\d+$")]}})
    plugins.platforms["source"]["routes"] = Platform("source", "routes", schema, None)
    path = write(
        "config.yaml",
        """
        salvesti: {purpose: x}
        sources:
          - platform: routes
            id: r
            inbound:
              "+3726000000": ["101", "mari"]
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:6: sources[0].inbound['+3726000000'][1]: "
        "does not match regular expression ^\\d+$, got 'mari'"
    ]


def test_a_crashing_plugin_validator_is_reported_not_raised(write, plugins):
    from salvesti.core.plugins import Platform

    def broken(value):
        raise KeyError("oops")

    plugins.platforms["sink"]["broken"] = Platform("sink", "broken", broken, None)
    path = write("config.yaml", "salvesti: {purpose: x}\nsinks:\n  - {platform: broken, id: b}\n")
    assert errors_of(path, plugins) == [
        "config.yaml:3: sinks[0] (broken 'b'): sink platform 'broken' failed to validate: KeyError('oops')"
    ]


def test_platform_cross_checks_see_the_whole_file(write, plugins):
    import voluptuous as vol

    from salvesti.core.plugins import Platform

    def needs_a_notice(item, config):
        if not config["notices"]:
            return [(["lines", 0], f"line {item['lines'][0]} has no recording notice")]
        return []

    schema = vol.Schema({"platform": "lined", "id": str, "lines": [str]})
    plugins.platforms["source"]["lined"] = Platform(
        "source", "lined", schema, None, extra={"check": needs_a_notice}
    )
    path = write(
        "config.yaml",
        """
        salvesti: {purpose: x}
        sources:
          - platform: lined
            id: office
            lines:
              - "+3726000000"
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:6: sources[0].lines[0]: line +3726000000 has no recording notice"
    ]


def test_common_yaml_slips_get_a_hint(write, plugins):
    assert errors_of(write("config.yaml", "salvesti:\n\tpurpose: x\n"), plugins) == [
        "config.yaml:2: invalid YAML: found character '\\t' that cannot start any token "
        "(while scanning for the next token); indent with spaces, not tabs"
    ]


def test_timezone_defaults_to_the_machines_zone(write, plugins, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    config = load_config(write("config.yaml", "salvesti: {purpose: x, default_country: '+358'}\n"), plugins)
    assert config["salvesti"]["timezone"] == "America/New_York"
    assert config["salvesti"]["default_country"] == "358"
