"""The provisioning keys of a sip_trunk source: ``mac``/``phone`` on extensions, ``provisioning:``."""

from __future__ import annotations

from pathlib import Path

import pytest
import voluptuous as vol

from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError
from salvesti.core.plugins import PluginManager
from salvesti.core.provisioning import PhoneDirectory, family_for_mac, normalize_mac
from salvesti.integrations.sip.provisioning import provisioning_plan
from salvesti.integrations.sip.schema import SCHEMA

BASE = {"platform": "sip_trunk", "id": "office", "listen": "127.0.0.1:5060"}


@pytest.mark.parametrize(
    "text",
    ["00:15:65:12:34:56", "00-15-65-12-34-56", "0015.6512.3456", "001565123456", "00:15:65:12:34:56 "],
)
def test_common_mac_notations_are_normalised(text: str) -> None:
    assert normalize_mac(text) == "001565123456"
    assert normalize_mac(text.upper()) == "001565123456"


@pytest.mark.parametrize("text", ["00:15:65:12:34", "00:15:65:12:34:5g", "", "phone"])
def test_what_is_not_a_mac(text: str) -> None:
    assert normalize_mac(text) is None


@pytest.mark.parametrize(
    ("mac", "family"),
    [
        ("001565aabbcc", "yealink"),
        ("249ad8aabbcc", "yealink"),
        ("805ec0aabbcc", "yealink"),
        ("000b82aabbcc", "grandstream"),
        ("c074adaabbcc", "grandstream"),
        ("000413aabbcc", "snom"),
        ("0c383eaabbcc", "fanvil"),
        ("00a859aabbcc", "fanvil"),
        ("020000aabbcc", None),
    ],
)
def test_the_family_is_guessed_from_well_known_ouis(mac: str, family: str | None) -> None:
    assert family_for_mac(mac) == family


def test_mac_and_phone_are_normalised_and_guessed() -> None:
    conf = SCHEMA(
        {
            **BASE,
            "extensions": [
                {"user": "101", "password": "pw101", "mac": "00:15:65:12:34:56"},
                {"user": "102", "password": "pw102", "mac": "02-00-00-12-34-56", "phone": "Fanvil"},
                {"user": "103", "password": "pw103"},
            ],
        }
    )
    assert [(e.get("mac"), e.get("phone")) for e in conf["extensions"]] == [
        ("001565123456", "yealink"),
        ("020000123456", "fanvil"),
        (None, None),
    ]
    plan = provisioning_plan(conf, listen_port=5060)
    assert plan.enabled is False  # no provisioning: block, nothing is served
    assert plan.account("101") is not None and plan.account("101").family == "yealink"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (
            [{"user": "101", "password": "pw101", "mac": "02:00:00:12:34:56"}],
            "cannot tell the phone from MAC 02:00:00:12:34:56: add phone: yealink | grandstream | snom "
            "| fanvil @ data['extensions'][0]['mac']",
        ),
        (
            [{"user": "101", "password": "pw101", "mac": "00:15:65"}],
            "'00:15:65' is not a MAC address (e.g. '00:15:65:12:34:56') for dictionary value "
            "@ data['extensions'][0]['mac']",
        ),
        (
            [{"user": "101", "password": "pw101", "phone": "snom"}],
            "phone: needs the phone's mac: @ data['extensions'][0]['phone']",
        ),
        (
            [{"user": "101", "password": "pw101", "mac": "001565123456", "phone": "cisco"}],
            "value must be one of ['fanvil', 'grandstream', 'snom', 'yealink'] for dictionary value "
            "@ data['extensions'][0]['phone']",
        ),
    ],
)
def test_phone_errors_are_specific(extensions: list, message: str) -> None:
    with pytest.raises(vol.Invalid) as err:
        SCHEMA({**BASE, "extensions": extensions})
    assert str(err.value) == message


def test_provisioning_block_defaults_and_server() -> None:
    conf = SCHEMA({**BASE, "provisioning": {"server": "pbx.shop.lan:5080", "codecs": ["G722", "PCMA"]}})
    plan = provisioning_plan(conf, listen_port=5060)
    assert (plan.enabled, plan.server, plan.port, plan.transport) == (True, "pbx.shop.lan", 5080, "udp")
    assert plan.codecs == ("G722", "PCMA") and plan.ntp_server == "pool.ntp.org" and plan.token is None
    plan = provisioning_plan(SCHEMA({**BASE, "provisioning": {}}), listen_port=5062)
    assert (plan.server, plan.port, plan.codecs) == (None, 5062, ("PCMA", "PCMU", "G722"))
    with pytest.raises(vol.Invalid, match="a provisioning token is at least 16"):
        SCHEMA({**BASE, "provisioning": {"token": "short"}})


CONFIG = """salvesti: {data_dir: ./data, purpose: test}
store: {platform: sqlite}
sources:
  - platform: sip_trunk
    id: office
    listen: 127.0.0.1:5060
    extensions:
      - {user: "101", password: "pw101", mac: "00:15:65:12:34:56"}
      - {user: "102", password: "pw102", mac: "001565123456"}
"""


def test_a_duplicate_mac_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG)
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "config.yaml", plugins)
    assert err.value.errors == [
        "config.yaml:9: sources[0].extensions[1].mac: "
        "MAC 00:15:65:12:34:56 is given twice (extension 101 has it)"
    ]


def test_the_sip_source_is_a_phone_directory() -> None:
    """The HTTP plugin finds it by capability (isinstance), never by importing the SIP code."""
    from salvesti.integrations.sip.source import SipTrunkSource

    source = SipTrunkSource.__new__(SipTrunkSource)  # no sockets: only the capability is asked
    source.id, source.conf, source.port = "office", SCHEMA({**BASE, "provisioning": {}}), 5060
    source.transport = type("T", (), {"port": 5070})()
    assert isinstance(source, PhoneDirectory)
    assert source.provisioning_plan().port == 5070
