"""Golden files for every phone family, each also checked against what its vendor documents.

The goldens are the exact bytes served for one account (extension 101, Mari Maasikas, box at
192.0.2.10:5060/udp, PCMA-PCMU-G722, Europe/Tallinn).  Regenerate after a deliberate format
change with ``SALVESTI_UPDATE_GOLDEN=1`` and read the diff; the structural checks below say
what each vendor's document requires, so a golden cannot silently drift from it.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from salvesti.plugins.http.provisioning import families, fanvil, grandstream, linphone, snom, yealink
from salvesti.plugins.http.provisioning.settings import PhoneSettings
from salvesti.plugins.http.provisioning.timezone import offset_hours, posix_rule

GOLDEN = Path(__file__).parent / "golden"
PASSWORD = "Kx7-qv9T-m4Lw&<p>"  # XML-special characters on purpose

SETTINGS = PhoneSettings(
    user="101",
    password=PASSWORD,
    display_name="Mari Maasikas",
    server="192.0.2.10",
    port=5060,
    transport="udp",
    codecs=("PCMA", "PCMU", "G722"),
    ntp_server="pool.ntp.org",
    timezone="Europe/Tallinn",
    mac="001565123456",
)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SALVESTI_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


#: A Yealink line: ``dotted.key = value`` (keys are lower-case words joined by dots).
YEALINK_LINE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+ = [^\n]*$")
YEALINK_REQUIRED = {
    "account.1.enable",
    "account.1.user_name",
    "account.1.auth_name",
    "account.1.password",
    "account.1.sip_server.1.address",
    "account.1.sip_server.1.port",
    "account.1.sip_server.1.transport_type",
    "account.1.outbound_proxy_enable",
    "account.1.outbound_proxy.1.address",
    "account.1.outbound_proxy.1.port",
    "account.1.dtmf.type",
}


def test_yealink_matches_its_golden_and_the_documented_format() -> None:
    """Checked against pages of Yealink's Auto Provisioning and Administrator's guides and
    Yealink's templates as published in wazo-provd-plugins
    (``plugins/wazo_yealink/v73``-``v86/templates/base.tpl``, ``v86/common.py``) and FusionPBX
    (``resources/templates/provision/yealink/t46s/{$mac}.cfg``): the ``#!version:1.0.0.1``
    header first; ``key = value`` lines; account.X.sip_server.Y.address/port/transport_type
    0=UDP; outbound_proxy_enable + outbound_proxy.Y.*; dtmf.type 1 = RFC 2833; codec.<name>.*
    with Yealink's names (``g726_32``, not ``g726-32``); local_time.time_zone ``+2``."""
    text = yealink.render(SETTINGS)
    golden("yealink.cfg", text)
    lines = text.splitlines()
    assert lines[0] == "#!version:1.0.0.1"
    settings = [line for line in lines if line and not line.startswith("#")]
    bad = [line for line in settings if not YEALINK_LINE.match(line)]
    assert bad == [], bad
    pairs = dict(line.split(" = ", 1) for line in settings)
    assert len(pairs) == len(settings), "a key is written twice"
    assert YEALINK_REQUIRED <= set(pairs), YEALINK_REQUIRED - set(pairs)
    assert pairs["account.1.user_name"] == pairs["account.1.auth_name"] == "101"
    assert pairs["account.1.password"] == PASSWORD
    assert (
        pairs["account.1.sip_server.1.address"] == pairs["account.1.outbound_proxy.1.address"] == "192.0.2.10"
    )
    assert (
        pairs["account.1.sip_server.1.port"] == "5060"
        and pairs["account.1.sip_server.1.transport_type"] == "0"
    )
    assert pairs["account.1.outbound_proxy_enable"] == "1"
    assert pairs["account.1.outbound_proxy.1.port"] == "5060"
    assert pairs["account.1.dtmf.type"] == "1" and pairs["account.1.dtmf.dtmf_payload"] == "101"
    codecs = {k.split(".")[3] for k in pairs if k.startswith("account.1.codec.")}
    assert codecs <= set(yealink.OTHER_CODECS), codecs - set(yealink.OTHER_CODECS)
    priorities = {k.split(".")[3]: int(v) for k, v in pairs.items() if k.endswith(".priority")}
    assert sorted(priorities, key=priorities.get) == ["pcma", "pcmu", "g722"]  # type: ignore[arg-type]
    enabled = {c for c in codecs if pairs[f"account.1.codec.{c}.enable"] == "1"}
    assert enabled == {"pcma", "pcmu", "g722"}  # the rest is switched off, not left to defaults
    assert pairs["local_time.time_zone"] == "+2" and pairs["local_time.time_zone_name"] == "Estonia(Tallinn)"


def test_grandstream_matches_its_golden_and_the_documented_format() -> None:
    """Checked against Grandstream's "Configuration Template For GXP2130/2140/2160/2170/2135"
    (firmware 1.0.10.35, in FusionPBX as ``grandstream/gxp2130/{$mac}.xml``; its comments name
    each P-value), the P-value comments of Grandstream's GRP261x and DP750 templates there, and
    wazo-provd-plugins' Grandstream ``base.tpl``: root ``gs_provision version="1"`` with ``mac``
    and ``config version="1"`` of P-values only (P47/P48 ``host:port``, P35/P36 user, P34
    password, P3 name, P130 0 = UDP, P57... vocoders 8/0/9, P79 DTMF payload, P2301/P2302/P2303
    DTMF in audio / RFC 2833 / SIP INFO, P30 NTP, P64 ``customize`` + P246 TZ rule)."""
    text = grandstream.render(SETTINGS)
    golden("grandstream.xml", text)
    root = ET.fromstring(text.encode())
    assert root.tag == "gs_provision" and root.get("version") == "1"
    assert root.findtext("mac") == "001565123456"
    config = root.find("config")
    assert config is not None and config.get("version") == "1"
    tags = [e.tag for e in config]
    assert all(re.fullmatch(r"P\d+", t) for t in tags) and len(set(tags)) == len(tags), tags
    p = {e.tag: e.text or "" for e in config}
    assert (p["P47"], p["P48"], p["P35"], p["P36"], p["P34"]) == (
        "192.0.2.10:5060",
        "192.0.2.10:5060",
        "101",
        "101",
        PASSWORD,
    )
    assert (p["P3"], p["P130"], p["P271"]) == ("Mari Maasikas", "0", "1")
    assert [p[k] for k in ("P57", "P58", "P59", "P60", "P61", "P62", "P46", "P98")] == ["8", "0"] + ["9"] * 6
    assert (p["P79"], p["P2301"], p["P2302"], p["P2303"]) == ("101", "0", "1", "0")
    assert p["P30"] == "pool.ntp.org"
    assert (p["P64"], p["P246"]) == ("customize", "EET-2EEST,M3.5.0/3,M10.5.0/4")


SNOM_IDENTITY = {"user_active", "user_realname", "user_name", "user_pass", "user_host", "user_outbound"}


def test_snom_matches_its_golden_and_the_documented_format() -> None:
    """Checked against Snom's wiki ("Desk Phone Configuration Files", "<phone-settings> tag",
    the DTMF types page), FusionPBX's ``snom/7xx/{$mac}.xml`` and wazo-provd-plugins' Snom
    ``base.tpl``/``common.py``: ``<settings><phone-settings e="2">`` of settings with a ``perm``
    attribute, identity settings with ``idx``; user_host and user_outbound as
    ``host:port;transport=udp``; user_dtmf_info ``off`` = RFC 2833 ("RTP-out-of-band");
    codec_priority_list lower-case with telephone-event last; timezone ``EST+2`` = Estonia
    (Snom's zone codes as listed in nethesis/nethvoice-wizard-ui)."""
    text = snom.render(SETTINGS)
    golden("snom.xml", text)
    root = ET.fromstring(text.encode())
    assert root.tag == "settings"
    ps = root.find("phone-settings")
    assert ps is not None and ps.get("e") == "2"
    assert all(e.get("perm") is not None for e in ps), "every setting carries perm"
    ident = {e.tag: e.text for e in ps if e.get("idx") == "1"}
    assert SNOM_IDENTITY <= set(ident), SNOM_IDENTITY - set(ident)
    assert ident["user_name"] == "101" and ident["user_pass"] == PASSWORD
    assert ident["user_host"] == ident["user_outbound"] == "192.0.2.10:5060;transport=udp"
    assert ident["user_realname"] == "Mari Maasikas" and ident["user_active"] == "on"
    assert ident["user_dtmf_info"] == "off"
    assert ident["codec_priority_list"] == "pcma,pcmu,g722,telephone-event"
    assert ps.findtext("timezone") == "EST+2" and ps.findtext("ntp_server") == "pool.ntp.org"


FANVIL_LINE = {
    "PhoneNumber",
    "DisplayName",
    "RegisterAddr",
    "RegisterPort",
    "RegisterUser",
    "RegisterPswd",
    "EnableReg",
    "ProxyAddr",
    "ProxyPort",
    "Transport",
    "DTMFMode",
}


def test_fanvil_matches_its_golden_and_the_documented_format() -> None:
    """Checked against FusionPBX's ``fanvil/x4u/{$mac}.cfg`` (firmware 2.2.10 and newer) and
    wazo-provd-plugins' Fanvil ``base-V-series.tpl``/``common.py``: the ``<mac>.cfg`` of current
    firmware is XML, not ``key = value``: ``<sysConf>`` with ``<Version>2.0000000000</Version>``;
    ``sip/line index="1"`` RegisterAddr/Port/User/Pswd, ProxyAddr/Port, Transport 0 = UDP,
    DTMFMode 1 = RFC 2833; ``mm/capability/AudioCodecSets``; ``phone/date/SNTPServer``."""
    text = fanvil.render(SETTINGS)
    golden("fanvil.cfg", text)
    root = ET.fromstring(text.encode())
    assert root.tag == "sysConf" and root.findtext("Version") == "2.0000000000"
    line = root.find("sip/line[@index='1']")
    assert line is not None
    values = {e.tag: e.text for e in line}
    assert FANVIL_LINE <= set(values), FANVIL_LINE - set(values)
    assert (values["RegisterAddr"], values["RegisterPort"], values["RegisterUser"]) == (
        "192.0.2.10",
        "5060",
        "101",
    )
    assert values["RegisterPswd"] == values["ProxyPswd"] == PASSWORD
    assert (values["ProxyAddr"], values["Transport"], values["DTMFMode"]) == ("192.0.2.10", "0", "1")
    assert root.findtext("mm/capability/AudioCodecSets") == "PCMA,PCMU,G722"
    assert root.findtext("phone/date/SNTPServer") == "pool.ntp.org"
    assert root.findtext("phone/date/EnableSNTP") == "1"


def test_linphone_matches_its_golden_and_the_documented_format() -> None:
    """Checked against Linphone's "Remote Provisioning" wiki page (XML form of linphonerc,
    ``<config xmlns="http://www.linphone.org/xsds/lpconfig.xsd">`` of sections and entries)
    and liblinphone's "Provisioning configuration keys" page (proxy_N: reg_proxy,
    reg_identity, reg_route, reg_expires, reg_sendregister), both read for this test."""
    text = linphone.render(SETTINGS)
    golden("linphone.xml", text)
    ns = {"lp": "http://www.linphone.org/xsds/lpconfig.xsd"}
    root = ET.fromstring(text.encode())
    assert root.tag == "{http://www.linphone.org/xsds/lpconfig.xsd}config"
    sections = {
        s.get("name"): {e.get("name"): e.text for e in s.findall("lp:entry", ns)}
        for s in root.findall("lp:section", ns)
    }
    assert sections["proxy_0"]["reg_proxy"] == "<sip:192.0.2.10:5060;transport=udp>"
    assert sections["proxy_0"]["reg_identity"] == '"Mari Maasikas" <sip:101@192.0.2.10>'
    assert sections["auth_info_0"]["username"] == "101" and sections["auth_info_0"]["passwd"] == PASSWORD
    assert [sections[f"audio_codec_{i}"]["mime"] for i in range(3)] == ["PCMA", "PCMU", "G722"]
    assert sections["sip"]["use_rfc2833"] == "1"


def test_line_breaks_in_names_cannot_add_keys() -> None:
    """A display name is config text: a newline in it must not start a key of its own."""
    evil = PhoneSettings(**{**SETTINGS.__dict__, "display_name": "Mari\naccount.1.password = x"})
    text = yealink.render(evil)
    assert "\naccount.1.password = x" not in text
    assert re.search(r"^account\.1\.label = Mari account\.1\.password = x$", text, re.M)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("001565123456.cfg", ("001565123456", ("yealink", "fanvil"))),
        ("0C383E123456.cfg", ("0c383e123456", ("yealink", "fanvil"))),
        ("cfg000b82123456.xml", ("000b82123456", ("grandstream",))),
        ("cfg000b82123456", ("000b82123456", ("grandstream",))),
        ("000413ABCDEF.xml", ("000413abcdef", ("snom",))),
        ("y000000000028.cfg", None),
        ("cfg.xml", None),
        ("../etc/passwd", None),
    ],
)
def test_file_names_phones_ask_for(name: str, expected: object) -> None:
    assert families.parse(name) == expected


def test_every_family_serves_the_name_it_parses() -> None:
    for family, writer in families.WRITERS.items():
        for name in writer.file_names("001565abcdef"):
            parsed = families.parse(name)
            assert parsed is not None and family in parsed[1], (family, name)


def test_time_zone_forms() -> None:
    assert posix_rule("Europe/Tallinn") == "EET-2EEST,M3.5.0/3,M10.5.0/4"
    assert (offset_hours("Europe/Tallinn"), offset_hours("Asia/Kolkata"), offset_hours("UTC")) == (
        "+2",
        "+5.5",
        "0",
    )
    assert offset_hours("America/New_York") == "-5" and offset_hours("Australia/Sydney") == "+10"


def test_the_http_plugin_reaches_sources_only_through_the_capability() -> None:
    """Dependencies point inward: provisioning code imports core.provisioning, never a source."""
    package = Path(families.__file__).parent
    for module in package.glob("*.py"):
        assert "salvesti.integrations" not in module.read_text(encoding="utf-8"), module.name
