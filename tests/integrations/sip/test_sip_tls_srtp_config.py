"""``transport: tls`` and ``srtp: sdes`` in the config, and what a TLS account sends.

SDES keys travel in the SDP, so SDES over plain UDP/TCP is refused with the reason unless
``srtp_over_plaintext`` says the risk is taken; TLS settings without TLS are mistakes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import voluptuous as vol

from salvesti.core.errors import SalvestiError
from salvesti.integrations.sip.carrier import Carrier
from salvesti.integrations.sip.schema import SCHEMA

BASE = {"platform": "sip_trunk", "id": "office", "listen": "127.0.0.1:5060"}
TRUNK = {"registrar": "sip.carrier.example", "username": "3726000001", "password": "pw"}


def source(trunk: dict) -> dict:
    return SCHEMA({**BASE, "trunk": {**TRUNK, **trunk}, "lines": ["+3726000001"]})


def test_sdes_over_plain_udp_is_refused_and_says_why() -> None:
    with pytest.raises(vol.Invalid) as err:
        source({"srtp": "sdes"})
    text = str(err.value)
    assert "readable by anyone on the path" in text
    assert "transport: tls" in text and "srtp_over_plaintext: true" in text
    assert err.value.path[-1] == "srtp"


def test_sdes_over_plaintext_only_when_asked_for() -> None:
    conf = source({"srtp": "sdes", "transport": "tcp", "srtp_over_plaintext": True})
    assert conf["trunk"]["srtp"] == "sdes"


def test_tls_with_sdes_and_defaults() -> None:
    conf = source({"transport": "TLS", "srtp": "sdes"})
    assert conf["trunk"]["transport"] == "tls" and conf["trunk"]["srtp_over_plaintext"] is False
    assert source({})["trunk"]["srtp"] == "off"


@pytest.mark.parametrize("key", ["tls_ca_file", "tls_server_name"])
def test_tls_settings_without_tls_are_refused(key: str) -> None:
    with pytest.raises(vol.Invalid, match=f"{key} applies to transport: tls only"):
        source({key: "sip.carrier.example"})


def test_accounts_take_the_same_checks() -> None:
    acc = {**TRUNK, "line": "+3726000001", "srtp": "sdes"}
    with pytest.raises(vol.Invalid, match="srtp: sdes sends the SRTP keys"):
        SCHEMA({**BASE, "accounts": [acc]})
    conf = SCHEMA({**BASE, "accounts": [{**acc, "transport": "tls"}]})
    assert conf["accounts"][0]["srtp"] == "sdes"


def test_bad_server_name_is_refused() -> None:
    with pytest.raises(vol.Invalid, match="expected a host name"):
        source({"transport": "tls", "tls_server_name": "not a name"})


def client(trunk: dict, tmp_path: Path | None = None):
    conf = source(trunk)
    c = Carrier.from_config(
        conf,
        transport=None,
        contact_host=lambda peer: "192.0.2.1",
        label="t",
        on_status=lambda *a: None,
        resolve_path=lambda p: (tmp_path or Path(".")) / p,
    )
    return c.clients[0]


def test_tls_account_uris_and_port() -> None:
    c = client({"transport": "tls", "srtp": "sdes"})
    assert c.registrar_port == 5061
    assert c.request_uri("+3725551234") == "sip:+3725551234@sip.carrier.example;transport=tls"
    assert c.tls is not None and c.tls.server_name == "sip.carrier.example"
    assert c.tls.context.check_hostname and c.srtp
    other = client(
        {"transport": "tls", "registrar": "sip.carrier.example:5071", "tls_server_name": "sbc.example"}
    )
    assert other.request_uri("1") == "sip:1@sip.carrier.example:5071;transport=tls"
    assert other.tls is not None and other.tls.server_name == "sbc.example"
    assert client({}).request_uri("1") == "sip:1@sip.carrier.example" and client({}).tls is None


def test_missing_ca_file_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(SalvestiError, match=r"cannot load tls_ca_file .*missing\.pem"):
        client({"transport": "tls", "tls_ca_file": "missing.pem"}, tmp_path)
