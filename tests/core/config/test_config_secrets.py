"""``!secret NAME`` reads secrets.yaml beside the config; problems name the config line."""

from __future__ import annotations

import pytest

from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError

CONFIG = """
salvesti:
  purpose: x
sources:
  - platform: test_sip
    id: telia
    trunk:
      registrar: sip.example.ee
      password: !secret trunk_password
"""


def test_secret_is_read_from_secrets_yaml_beside_the_config(write, plugins, tmp_path):
    write("conf/secrets.yaml", "trunk_password: 's3cr3t'\n")
    config = load_config(write("conf/config.yaml", CONFIG), plugins)
    assert config["sources"][0]["trunk"]["password"] == "s3cr3t"


def test_missing_secrets_file(write, plugins):
    with pytest.raises(ConfigError) as info:
        load_config(write("config.yaml", CONFIG), plugins)
    assert info.value.errors == [
        "config.yaml:8: sources[0].trunk.password: "
        "secret 'trunk_password' not found: secrets.yaml does not exist"
    ]


def test_missing_secret_name(write, plugins):
    write("secrets.yaml", "other: 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(write("config.yaml", CONFIG), plugins)
    assert info.value.errors == [
        "config.yaml:8: sources[0].trunk.password: secret 'trunk_password' not found in secrets.yaml"
    ]


def test_broken_secrets_file(write, plugins):
    write("secrets.yaml", "a: [1\n")
    with pytest.raises(ConfigError) as info:
        load_config(write("config.yaml", CONFIG), plugins)
    (line,) = info.value.errors
    assert line.startswith(
        "config.yaml:8: sources[0].trunk.password: secret 'trunk_password' not found: "
        "secrets.yaml could not be read (secrets.yaml:2: invalid YAML:"
    )


def test_secret_values_are_never_echoed(write, plugins):
    write("secrets.yaml", "trunk_password: 12345\n")
    text = CONFIG.replace("registrar: sip.example.ee", "registrar: !secret trunk_password")
    config = load_config(write("config.yaml", text), plugins)
    assert config["sources"][0]["trunk"]["registrar"] == "12345"
    write("secrets.yaml", "trunk_password: [1, 2]\n")
    with pytest.raises(ConfigError) as info:
        load_config(write("config.yaml", text), plugins)
    assert info.value.errors == [
        "config.yaml:7: sources[0].trunk.registrar: expected str, got a list",
        "config.yaml:8: sources[0].trunk.password: expected str",  # a password is never echoed
    ]
