"""Yealink desk phones (T3x/T4x/T5x): ``<mac>.cfg``, the ``#!version:1.0.0.1`` key = value format.

Keys as in Yealink's "Auto Provisioning" admin guide and the per-account parameters of the
"SIP-T4X/T5X Administrator Guide" (``account.X.sip_server.Y.*``, ``account.X.outbound_proxy.Y.*``,
``account.X.codec.<name>.*``, ``account.X.dtmf.type`` 1 = RFC 2833, ``local_time.*``).  The
first line must be the version header or the phone ignores the file.
"""

from __future__ import annotations

from salvesti.plugins.http.provisioning.settings import DTMF_PAYLOAD, PhoneSettings
from salvesti.plugins.http.provisioning.text import one_line
from salvesti.plugins.http.provisioning.timezone import offset_hours

FAMILY = "yealink"
CONTENT_TYPE = "text/plain"
TRANSPORT = {"udp": 0, "tcp": 1}
#: Codecs a Yealink enables by default that Salvesti does not offer: switched off.
OFF_CODECS = ("g729", "g726-32", "opus", "ilbc")
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
    for priority, codec in enumerate(s.codecs, start=1):
        name = codec.lower()
        pairs += [(f"{acc}.codec.{name}.enable", 1), (f"{acc}.codec.{name}.priority", priority)]
    pairs += [(f"{acc}.codec.{name}.enable", 0) for name in OFF_CODECS]
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
