"""Yealink desk phones (T3x/T4x/T5x): ``<mac>.cfg``, the ``#!version:1.0.0.1`` key = value format.

Keys as Yealink's Auto Provisioning and Administrator's guides name them (and wazo-provd-plugins'
Yealink ``v73``-``v86/templates/base.tpl``, FusionPBX's ``yealink/t46s/{$mac}.cfg``; see
docs/provisioning.md): ``account.X.sip_server.Y.address/port/transport_type`` (0 UDP, 1 TCP),
``account.X.outbound_proxy_enable`` + ``outbound_proxy.Y.address/port``, ``account.X.dtmf.type``
1 = RFC 2833 with ``dtmf.dtmf_payload``, ``account.X.codec.<name>.enable/priority`` with
Yealink's codec names (``pcma``, ``g726_32``, ``g723_53`` ...; the numbered codec slots are for
firmware 81 and older and are not written), ``local_time.*``.  The first line
must be the version header or the phone ignores the file.
"""

from __future__ import annotations

from salvesti.plugins.http.provisioning.settings import DTMF_PAYLOAD, PhoneSettings
from salvesti.plugins.http.provisioning.text import one_line
from salvesti.plugins.http.provisioning.timezone import offset_hours

FAMILY = "yealink"
CONTENT_TYPE = "text/plain"
TRANSPORT = {"udp": 0, "tcp": 1}
#: Yealink's names of the other codecs a T4x/T5x knows: switched off unless Salvesti offers them
#: (Salvesti's own names are ``PCMA``/``PCMU``/``G722``, lower-cased they are Yealink's).
OTHER_CODECS = (
    "pcmu",
    "pcma",
    "g722",
    "g729",
    "g726_16",
    "g726_24",
    "g726_32",
    "g726_40",
    "g723_53",
    "g723_63",
    "opus",
    "ilbc",
)
#: Yealink's own names for zones (``local_time.time_zone_name``); others get the offset only.
ZONE_NAMES = {
    "Europe/Tallinn": "Estonia(Tallinn)",
    "Europe/Riga": "Latvia(Riga)",
    "Europe/Vilnius": "Lithuania(Vilnius)",
    "Europe/Helsinki": "Finland(Helsinki)",
}


def file_names(mac: str) -> tuple[str, ...]:
    return (f"{mac}.cfg",)


def render(s: PhoneSettings) -> str:
    acc = "account.1"
    pairs: list[tuple[str, object]] = [
        (f"{acc}.enable", 1),
        (f"{acc}.label", s.display_name),
        (f"{acc}.display_name", s.display_name),
        (f"{acc}.auth_name", s.user),
        (f"{acc}.user_name", s.user),
        (f"{acc}.password", s.password),
        (f"{acc}.sip_server.1.address", s.server),
        (f"{acc}.sip_server.1.port", s.port),
        (f"{acc}.sip_server.1.transport_type", TRANSPORT[s.transport]),
        (f"{acc}.outbound_proxy_enable", 1),
        (f"{acc}.outbound_proxy.1.address", s.server),
        (f"{acc}.outbound_proxy.1.port", s.port),
        (f"{acc}.dtmf.type", 1),
        (f"{acc}.dtmf.dtmf_payload", DTMF_PAYLOAD),
    ]
    offered = [codec.lower() for codec in s.codecs]
    for priority, name in enumerate(offered, start=1):
        pairs += [(f"{acc}.codec.{name}.enable", 1), (f"{acc}.codec.{name}.priority", priority)]
    pairs += [(f"{acc}.codec.{name}.enable", 0) for name in OTHER_CODECS if name not in offered]
    pairs += [
        ("local_time.ntp_server1", s.ntp_server),
        ("local_time.time_zone", offset_hours(s.timezone)),
    ]
    if s.timezone in ZONE_NAMES:
        pairs.append(("local_time.time_zone_name", ZONE_NAMES[s.timezone]))
    pairs.append(("local_time.summer_time", 2))  # 2 = automatic
    header = [
        "#!version:1.0.0.1",
        f"## Salvesti: extension {one_line(s.user)}; written anew at every fetch, edit the config instead.",
    ]
    return "\n".join(header + [f"{key} = {one_line(value)}" for key, value in pairs]) + "\n"
