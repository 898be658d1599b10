"""Snom desk phones (D1xx/D3xx/D7xx): ``<mac>.xml``, the ``<settings><phone-settings>`` XML.

Setting names as Snom's wiki ("Desk Phone Configuration Files", "<phone-settings> tag", the
DTMF types page) and the FusionPBX/wazo-provd-plugins Snom templates have them (see
docs/provisioning.md; identity 1 is ``idx="1"``): user_active, user_realname, user_name,
user_pass, user_host (registrar, ``host:port;transport=udp``), user_outbound (outbound proxy,
same form), user_dtmf_info (``off`` = DTMF as RFC 2833 events), codec_priority_list (lower-case,
``telephone-event`` last), ntp_server, timezone (Snom's own codes: ``EST+2`` Estonia, ``LVA+2``,
``LTU+2``, ``FIN+2``, as in the Snom zone list of nethesis/nethvoice-wizard-ui).  ``perm=""``
leaves the value changeable on the phone.
"""

from __future__ import annotations

from salvesti.plugins.http.provisioning.settings import PhoneSettings
from salvesti.plugins.http.provisioning.text import xml_value

FAMILY = "snom"
CONTENT_TYPE = "application/xml"
#: Snom's zone codes for the zones we know; others keep the phone's setting.
ZONE_CODES = {
    "Europe/Tallinn": "EST+2",
    "Europe/Riga": "LVA+2",
    "Europe/Vilnius": "LTU+2",
    "Europe/Helsinki": "FIN+2",
}


def file_names(mac: str) -> tuple[str, ...]:
    return (f"{mac}.xml",)


def render(s: PhoneSettings) -> str:
    host = f"{s.server_hostport};transport={s.transport}"
    identity: list[tuple[str, object]] = [
        ("user_active", "on"),
        ("user_realname", s.display_name),
        ("user_name", s.user),
        ("user_pass", s.password),
        ("user_host", host),
        ("user_outbound", host),
        ("user_dtmf_info", "off"),
        ("codec_priority_list", ",".join([*(c.lower() for c in s.codecs), "telephone-event"])),
    ]
    phone: list[tuple[str, object]] = [("ntp_server", s.ntp_server)]
    if s.timezone in ZONE_CODES:
        phone.append(("timezone", ZONE_CODES[s.timezone]))
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<!-- Salvesti: extension {xml_value(s.user)}; written anew at every fetch -->",
        "<settings>",
        '  <phone-settings e="2">',
        *(f'    <{k} idx="1" perm="">{xml_value(v)}</{k}>' for k, v in identity),
        *(f'    <{k} perm="">{xml_value(v)}</{k}>' for k, v in phone),
        "  </phone-settings>",
        "</settings>",
    ]
    return "\n".join(lines) + "\n"
