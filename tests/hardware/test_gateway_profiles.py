"""SIP gateway profiles: every shipped file validates and says what nobody verified; a
broken file fails with file, line and key, the same way the modem profiles do."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.hardware import ProfileError
from salvesti.hardware.gateways import (
    GATEWAYS_DIR,
    GatewayProfile,
    available_gateway_profiles,
    load_gateway_profile,
)

REQUIRED = ["dinstar_uc", "generic_fxo", "goip", "grandstream_gxw4104", "grandstream_ht813", "yeastar_tg"]


def test_the_profiles_the_issue_asks_for_ship():
    assert set(REQUIRED) <= set(available_gateway_profiles())


@pytest.mark.parametrize("name", REQUIRED)
def test_profile_loads_and_says_what_is_unknown(name):
    p = load_gateway_profile(name)
    assert isinstance(p, GatewayProfile) and p.path == GATEWAYS_DIR / f"{name}.yaml"
    assert p.unknown and p.sources
    assert p.recommended_connect in p.connect and p.dtmf_default in p.dtmf_modes
    assert p.caller_id.headers and p.codecs


def test_facts_that_the_source_relies_on():
    ht = load_gateway_profile("grandstream_ht813")
    assert ht.kind == "fxo" and not ht.supervised
    assert ht.caller_id.headers[0] == "P-Asserted-Identity" and ht.caller_id.form == "national"
    assert any("Number of Rings" in q for q in ht.quirks)
    tg = load_gateway_profile("yeastar_tg")
    assert tg.kind == "gsm" and tg.supervised and tg.answer_supervision == "network"
    assert "Remote-Party-ID" in load_gateway_profile("generic_fxo").caller_id.headers


def _broken(tmp_path: Path, text: str, name: str = "broken_gw") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_bad_value_names_file_line_and_key(tmp_path: Path):
    good = (GATEWAYS_DIR / "generic_fxo.yaml").read_text().replace("name: generic_fxo", "name: broken_gw")
    path = _broken(tmp_path, good.replace("form: auto", "form: sometimes"))
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "form: sometimes" in t)
    with pytest.raises(ProfileError) as err:
        load_gateway_profile(path)
    forms = "['auto', 'e164', 'international', 'national']"
    assert str(err.value) == f"broken_gw.yaml:{line}: caller_id.form: value must be one of {forms}"


def test_missing_unknown_list_and_inconsistent_default(tmp_path: Path):
    good = (GATEWAYS_DIR / "generic_fxo.yaml").read_text().replace("name: generic_fxo", "name: broken_gw")
    path = _broken(tmp_path, good.split("unknown:")[0])
    with pytest.raises(ProfileError, match=r"^broken_gw.yaml:\d+: unknown: required key not provided$"):
        load_gateway_profile(path)
    path = _broken(
        tmp_path, good.replace("recommended: registers_to_us", "recommended: we_register"), "other_gw"
    )
    with pytest.raises(ProfileError, match=r"name: must match the file name"):
        load_gateway_profile(path)
    path = _broken(
        tmp_path,
        good.replace("name: broken_gw", "name: third_gw").replace(
            "recommended: registers_to_us", "recommended: we_register"
        ),
        "third_gw",
    )
    with pytest.raises(
        ProfileError, match=r"^third_gw.yaml:\d+: connect.recommended: must be one of connect.supported$"
    ):
        load_gateway_profile(path)


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(
        ProfileError, match="unknown SIP gateway profile 'cisco_x'; known profiles: dinstar_uc, "
    ):
        load_gateway_profile("cisco_x")
