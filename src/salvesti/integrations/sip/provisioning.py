"""What the ``sip_trunk`` source offers for phone provisioning (``core.provisioning``).

The ``provisioning:`` block lives on the source, not on the ``http:`` block, because what it
says belongs to this source's SIP side: which address its phones register to, over which
transport, with which codecs.  The web server only serves the files (plugins/http/provisioning).

Config pieces here: the extension keys ``mac`` (any common notation, normalised) and ``phone``
(guessed from the MAC's OUI when left out), the ``provisioning:`` block, and the whole-source
check that no MAC is given twice.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from salvesti.core.provisioning import (
    PHONE_FAMILIES,
    PhoneAccount,
    ProvisioningPlan,
    colon_mac,
    family_for_mac,
    normalize_mac,
)

#: Codecs a desk phone is offered, in this order unless ``provisioning.codecs`` says otherwise.
PHONE_CODECS = ("PCMA", "PCMU", "G722")
DEFAULT_NTP = "pool.ntp.org"


def mac_address(value: Any) -> str:
    """A MAC in any common notation -> ``001565123456``."""
    mac = normalize_mac(value) if isinstance(value, str) else None
    if mac is None:
        raise vol.Invalid(f"{value!r} is not a MAC address (e.g. '00:15:65:12:34:56')")
    return mac


def _token(value: Any) -> str:
    text = str(value) if isinstance(value, str | int) else ""
    if len(text) < 16 or not all(c.isalnum() or c in "-_" for c in text):
        raise vol.Invalid("a provisioning token is at least 16 letters, digits, - or _ (use !secret)")
    return text


def _server(value: str | None, default_port: int) -> tuple[str | None, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address -> (host, port)."""
    if not value:
        return None, default_port
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else default_port
    host, sep, port = value.partition(":")
    if sep and port.isdigit() and ":" not in port:
        return host, int(port)
    return value, default_port


def server_address(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or " " in value.strip():
        raise vol.Invalid("expected host or host:port, e.g. pbx.shop.lan or 192.168.1.10:5060")
    text = value.strip()
    _host, port = _server(text, 5060)
    if not 0 < port < 65536:
        raise vol.Invalid(f"port out of range in {text!r}")
    return text


PROVISIONING_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=True): bool,
        # What phones register to and use as outbound proxy: host or host:port.  Default: the
        # address the phone fetched its file from, port from ``listen``.
        vol.Optional("server"): server_address,
        vol.Optional("transport", default="udp"): vol.All(vol.Lower, vol.In(["udp", "tcp"])),
        vol.Optional("codecs", default=list(PHONE_CODECS)): vol.All(
            [vol.In(PHONE_CODECS)], vol.Length(min=1), vol.Unique()
        ),
        vol.Optional("ntp_server", default=DEFAULT_NTP): vol.All(str, vol.Length(min=1, max=253)),
        # Files only under /provision/<token>/<file> (MAC addresses are guessable).
        vol.Optional("token"): _token,
    }
)


def check_phones(conf: dict[str, Any]) -> dict[str, Any]:
    """No MAC twice; every MAC's phone family known (given, or from its OUI)."""
    seen: dict[str, int] = {}
    for index, ext in enumerate(conf.get("extensions", [])):
        mac = ext.get("mac")
        if mac is None:
            if "phone" in ext:
                raise vol.Invalid("phone: needs the phone's mac:", path=["extensions", index, "phone"])
            continue
        if mac in seen:
            first = conf["extensions"][seen[mac]]["user"]
            raise vol.Invalid(
                f"MAC {colon_mac(mac)} is given twice (extension {first} has it)",
                path=["extensions", index, "mac"],
            )
        seen[mac] = index
        if "phone" not in ext:
            family = family_for_mac(mac)
            if family is None:
                raise vol.Invalid(
                    f"cannot tell the phone from MAC {colon_mac(mac)}: add phone: "
                    + " | ".join(PHONE_FAMILIES),
                    path=["extensions", index, "mac"],
                )
            ext["phone"] = family
    return conf


def provisioning_plan(conf: dict[str, Any], *, listen_port: int) -> ProvisioningPlan:
    """The source's accounts and phone settings from its validated config block."""
    block = conf.get("provisioning")
    # Validated again (idempotent) so a hand-built config gets the same defaults; absent = off.
    prov = PROVISIONING_SCHEMA(dict(block) if block is not None else {"enabled": False})
    server, port = _server(prov.get("server"), listen_port)
    accounts = tuple(
        PhoneAccount(
            user=ext["user"],
            password=ext["password"],
            display_name=ext.get("name"),
            mac=ext.get("mac"),
            family=ext.get("phone"),
        )
        for ext in conf.get("extensions", [])
    )
    return ProvisioningPlan(
        source=conf["id"],
        enabled=bool(prov["enabled"]),
        server=server or None,
        port=port,
        transport=prov["transport"],
        codecs=tuple(prov["codecs"]),
        ntp_server=prov["ntp_server"],
        token=prov.get("token"),
        accounts=accounts,
    )
