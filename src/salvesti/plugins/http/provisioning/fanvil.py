"""Fanvil desk phones (X/V series): ``<mac>.cfg`` holding the ``<sysConf>`` XML (format version 2).

Element names of Fanvil's XML configuration (checked against FusionPBX's
``fanvil/x4u/{$mac}.cfg``, "optimized for firmware 2.2.10 and newer", and wazo-provd-plugins'
Fanvil ``base-V-series.tpl``/``common.py``, see docs/provisioning.md): ``sip/line[@index]``
PhoneNumber, DisplayName, RegisterAddr/Port/User/Pswd, EnableReg, ProxyAddr/Port/User/Pswd,
Transport 0 UDP 1 TCP, DTMFMode 1 = RFC 2833 (0 in band, 2 SIP INFO);
``mm/capability/AudioCodecSets`` (``PCMU,PCMA,G722``); ``phone/date`` SNTPServer, EnableSNTP.  The time zone
is not written: Fanvil's TimeZone takes an index into its own table, set it on the phone.
Yealink asks for the same file name; the configured family decides which file is served.
"""

from __future__ import annotations

from salvesti.plugins.http.provisioning.settings import PhoneSettings
from salvesti.plugins.http.provisioning.text import xml_value

FAMILY = "fanvil"
CONTENT_TYPE = "application/xml"
TRANSPORT = {"udp": 0, "tcp": 1}


def file_names(mac: str) -> tuple[str, ...]:
    return (f"{mac}.cfg",)


def render(s: PhoneSettings) -> str:
    line: list[tuple[str, object]] = [
        ("PhoneNumber", s.user),
        ("DisplayName", s.display_name),
        ("RegisterAddr", s.server),
        ("RegisterPort", s.port),
        ("RegisterUser", s.user),
        ("RegisterPswd", s.password),
        ("EnableReg", 1),
        ("ProxyAddr", s.server),
        ("ProxyPort", s.port),
        ("ProxyUser", s.user),
        ("ProxyPswd", s.password),
        ("Transport", TRANSPORT[s.transport]),
        ("DTMFMode", 1),
    ]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- Salvesti: extension {xml_value(s.user)}; written anew at every fetch -->",
        "<sysConf>",
        "  <Version>2.0000000000</Version>",
        "  <sip>",
        '    <line index="1">',
        *(f"      <{k}>{xml_value(v)}</{k}>" for k, v in line),
        "    </line>",
        "  </sip>",
        "  <mm>",
        "    <capability>",
        f"      <AudioCodecSets>{','.join(s.codecs)}</AudioCodecSets>",
        "    </capability>",
        "  </mm>",
        "  <phone>",
        "    <date>",
        f"      <SNTPServer>{xml_value(s.ntp_server)}</SNTPServer>",
        "      <EnableSNTP>1</EnableSNTP>",
        "    </date>",
        "  </phone>",
        "</sysConf>",
    ]
    return "\n".join(lines) + "\n"
