"""``accounts:`` and ``gateways:`` in the sip_trunk block: the lines they bring, and config
errors at the file, line and key where they are."""

from __future__ import annotations

from pathlib import Path

import pytest
import voluptuous as vol

from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError
from salvesti.core.plugins import PluginManager
from salvesti.integrations.sip.schema import SCHEMA

BASE = {"platform": "sip_trunk", "id": "office", "listen": "127.0.0.1:5060"}  # lab passwords: loopback
ACC = {"registrar": "sip.carrier.example", "username": "3726000001", "password": "pw", "line": "+3726000001"}
GW = {
    "id": "fxo1",
    "profile": "grandstream_ht813",
    "user": "gw-fxo1",
    "password": "gwpass",
    "line": "+3726111111",
}


def test_accounts_and_gateways_bring_their_lines() -> None:
    acc2 = {**ACC, "username": "3726000002", "line": "3726000002"}
    conf = SCHEMA({**BASE, "accounts": [ACC, acc2], "gateways": [GW], "inbound": {"+3726111111": []}})
    assert conf["lines"] == ["+3726000001", "+3726000002", "+3726111111"]
    assert conf["accounts"][1]["line"] == "+3726000002" and conf["accounts"][0]["expires"] == 300
    trusted = SCHEMA(
        {
            **BASE,
            "gateways": [
                {"id": "tg", "profile": "yeastar_tg", "address": "192.0.2.7", "line": "+37255500000"}
            ],
        }
    )
    assert trusted["lines"] == ["+37255500000"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"trunk": {k: v for k, v in ACC.items() if k != "line"}},
            "give either trunk: (one account for every line) or accounts:, not both",
        ),
        ({"lines": ["+3726000009"]}, "with accounts: the lines are the accounts' lines; remove lines:"),
        (
            {"accounts": [ACC, {**ACC, "username": "x"}]},
            "line '+3726000001' is served twice (one account or gateway per line)",
        ),
        ({"gateways": [{**GW, "line": "+3726000001"}]}, "line '+3726000001' is served twice"),
        ({"gateways": [GW, {**GW, "line": "+3726111112"}]}, "gateway id 'fxo1' is used twice"),
        (
            {"gateways": [{**GW, "profile": "cisco_x"}]},
            "unknown gateway profile 'cisco_x' (available: dinstar_uc, generic_fxo, goip,",
        ),
        (
            {"gateways": [{**GW, "address": "192.0.2.9"}]},
            "give either user and password (it registers to us) or address",
        ),
        ({"gateways": [{k: v for k, v in GW.items() if k != "password"}]}, "required key not provided"),
        (
            {"gateways": [{**GW, "user": "101"}], "extensions": [{"user": "101", "password": "pw101"}]},
            "user '101' is an extension's too",
        ),
        (
            {"accounts": [{k: v for k, v in ACC.items() if k != "line"}]},
            "required key not provided @ data['accounts'][0]['line']",
        ),
    ],
)
def test_config_errors(change: dict, message: str) -> None:
    conf = {**BASE, "accounts": [ACC], **change}
    with pytest.raises(vol.Invalid) as err:
        SCHEMA(conf)
    assert message in str(err.value)


CONFIG = """salvesti: {data_dir: ./data, purpose: test}
store: {platform: sqlite}
sources:
  - platform: sip_trunk
    id: office
    listen: 127.0.0.1:5060
    accounts:
      - {line: "+3726000001", registrar: sip.carrier.example, username: "3726000001", password: a}
      - {line: "@LINE2@", registrar: sip.carrier.example, username: "3726000002", password: b}
    gateways:
      - {id: fxo1, profile: @PROFILE@, user: gw-fxo1, password: gwpass, line: "+3726111111"}
    no_notice: {"+3726000001": "test", "+3726000002": "test", "+3726111111": "test"}
"""


@pytest.mark.parametrize(
    ("line2", "profile", "error"),
    [
        (
            "+3726000002",
            "grandstream_ht81",
            "config.yaml:11: sources[0].gateways[0].profile: unknown gateway profile 'grandstream_ht81', "
            "did you mean 'grandstream_ht813'?",
        ),
        (
            "+3726000001",
            "grandstream_ht813",
            "config.yaml:9: sources[0].accounts[1].line: line '+3726000001' is served twice "
            "(one account or gateway per line)",
        ),
    ],
)
def test_check_config_names_file_line_and_key(tmp_path: Path, line2: str, profile: str, error: str) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG.replace("@LINE2@", line2).replace("@PROFILE@", profile))
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "config.yaml", plugins)
    assert err.value.errors == [error]


def test_a_valid_file_loads(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        CONFIG.replace("@LINE2@", "+3726000002").replace("@PROFILE@", "goip")
    )
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    conf = load_config(tmp_path / "config.yaml", plugins)
    assert conf["sources"][0]["lines"] == ["+3726000001", "+3726000002", "+3726111111"]
