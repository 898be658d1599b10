"""Grandstream desk phones (GXP/GRP/GXV): ``cfg<mac>.xml``, the ``gs_provision`` XML of P-values.

P-value numbers from Grandstream's "Configuration File Template" and "Provisioning Guide"
(account 1): P271 account active, P270 account name, P47 SIP server, P48 outbound proxy,
P35 SIP user ID, P36 authenticate ID, P34 password, P3 display name, P130 transport
(0 UDP, 1 TCP), P57-P62/P46/P98 vocoder choices 1-8 (RTP payload types), P79 DTMF payload
type, P73 DTMF mode (1 = RFC 2833; newer firmware: P850 in-audio, P851 RFC 2833, P852 SIP
INFO), P30 NTP server, P64 time zone (``customize`` + P246 a POSIX TZ rule).
Phones ask for ``cfg<mac>`` first on some firmware, then ``cfg<mac>.xml``: both are served.
"""

from __future__ import annotations

from salvesti.plugins.http.provisioning.settings import DTMF_PAYLOAD, PAYLOAD_TYPES, PhoneSettings
from salvesti.plugins.http.provisioning.text import xml_value
from salvesti.plugins.http.provisioning.timezone import posix_rule

FAMILY = "grandstream"
CONTENT_TYPE = "application/xml"
TRANSPORT = {"udp": 0, "tcp": 1}
#: Vocoder choices 1-8, in order.
VOCODER_SLOTS = ("P57", "P58", "P59", "P60", "P61", "P62", "P46", "P98")


def file_names(mac: str) -> tuple[str, ...]:
    return (f"cfg{mac}.xml", f"cfg{mac}")


def render(s: PhoneSettings) -> str:
    values: list[tuple[str, object]] = [
        ("P271", 1),
        ("P270", s.display_name),
        ("P47", s.server_hostport),
        ("P48", s.server_hostport),
        ("P35", s.user),
        ("P36", s.user),
        ("P34", s.password),
        ("P3", s.display_name),
        ("P130", TRANSPORT[s.transport]),
    ]
    codecs = [PAYLOAD_TYPES[c] for c in s.codecs]
    # Unused choices repeat the last codec, so the phone's defaults (G.729, G.723) stay out.
    codecs += [codecs[-1]] * (len(VOCODER_SLOTS) - len(codecs))
    values += list(zip(VOCODER_SLOTS, codecs, strict=True))
    values += [
        ("P79", DTMF_PAYLOAD),
        ("P73", 1),
        ("P850", 0),
        ("P851", 1),
        ("P852", 0),
        ("P30", s.ntp_server),
        ("P64", "customize"),
        ("P246", posix_rule(s.timezone)),
    ]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- Salvesti: extension {xml_value(s.user)}; written anew at every fetch -->",
        '<gs_provision version="1">',
        f"  <mac>{s.mac or ''}</mac>",
        '  <config version="1">',
        *(f"    <{p}>{xml_value(v)}</{p}>" for p, v in values),
        "  </config>",
        "</gs_provision>",
    ]
    return "\n".join(lines) + "\n"
