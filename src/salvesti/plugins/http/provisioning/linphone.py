"""Linphone (and other liblinphone apps): the remote-provisioning XML, ``lpconfig.xsd`` form.

Sections and keys from Linphone's "Remote Provisioning" wiki page and liblinphone's
"Provisioning configuration keys": ``proxy_0`` (reg_proxy, reg_route, reg_identity,
reg_expires, reg_sendregister), ``auth_info_0`` (username, userid, passwd, domain),
``sip`` (default_proxy, use_rfc2833, use_info), ``audio_codec_N`` (mime, rate, enabled).
``overwrite="true"`` makes the served values win over what the user changed in the app.
The URL carries the extension's secret token because the file holds its password.
"""

from __future__ import annotations

from salvesti.plugins.http.provisioning.settings import PhoneSettings
from salvesti.plugins.http.provisioning.text import quoteattr, xml_value

FAMILY = "linphone"
CONTENT_TYPE = "application/xml"
#: Clock rates as SDP states them (G.722 says 8000 for historical reasons, RFC 3551 4.5.2).
RATES = {"PCMU": 8000, "PCMA": 8000, "G722": 8000}


def render(s: PhoneSettings) -> str:
    host = s.server_hostport
    name = s.display_name.replace('"', "'")
    sections: list[tuple[str, list[tuple[str, object]]]] = [
        (
            "proxy_0",
            [
                ("reg_proxy", f"<sip:{host};transport={s.transport}>"),
                ("reg_route", f"<sip:{host};transport={s.transport};lr>"),
                ("reg_identity", f'"{name}" <sip:{s.user}@{s.server_host}>'),
                ("reg_expires", 3600),
                ("reg_sendregister", 1),
            ],
        ),
        (
            "auth_info_0",
            [("username", s.user), ("userid", s.user), ("passwd", s.password), ("domain", s.server_host)],
        ),
        ("sip", [("default_proxy", 0), ("use_rfc2833", 1), ("use_info", 0)]),
    ]
    for index, codec in enumerate(s.codecs):
        sections.append((f"audio_codec_{index}", [("mime", codec), ("rate", RATES[codec]), ("enabled", 1)]))
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<config xmlns="http://www.linphone.org/xsds/lpconfig.xsd" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.linphone.org/xsds/lpconfig.xsd lpconfig.xsd">',
    ]
    for section, entries in sections:
        lines.append(f"  <section name={quoteattr(section)}>")
        lines += [
            f'    <entry name={quoteattr(key)} overwrite="true">{xml_value(value)}</entry>'
            for key, value in entries
        ]
        lines.append("  </section>")
    lines.append("</config>")
    return "\n".join(lines) + "\n"
