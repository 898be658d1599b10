"""Grandstream desk phones (GXP/GRP/GXV): ``cfg<mac>.xml``, the ``gs_provision`` XML of P-values.

P-value numbers as Grandstream's "Configuration Template For GXP2130/2140/2160/2170/2135"
(firmware 1.0.10.35, shipped in FusionPBX as ``grandstream/gxp2130/{$mac}.xml``) comments them
for account 1: P271 account active, P270 account name, P47 SIP server and P48 outbound proxy
(``host:port``), P35 SIP user ID, P36 authenticate ID, P34 password, P3 display name, P130
transport (0 UDP, 1 TCP), P57-P62/P46/P98 vocoder choices 1-8 (0 PCMU, 8 PCMA, 9 G.722), P79
DTMF payload type, "Send DTMF" P2301 in audio / P2302 via RTP (RFC 2833) / P2303 via SIP INFO
(each 0/1).  P30 NTP server and P64 time zone (``customize`` = self-defined, then P246 the rule)
as in Grandstream's DP750 template and wazo-provd's Grandstream ``base.tpl``.
The GXP21xx guide: the phone asks for ``cfg<mac>.xml``, then ``cfg<mac>``: both are served.
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
        ("P2301", 0),  # DTMF in audio: no
        ("P2302", 1),  # DTMF via RTP (RFC 2833): yes
        ("P2303", 0),  # DTMF via SIP INFO: no
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
