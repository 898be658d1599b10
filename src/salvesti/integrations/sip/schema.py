"""The ``sip_trunk`` source's config block (CONTRACT "Configuration"), validated with voluptuous.

Only the shape is checked here, item by item; what needs the rest of the file (a notice for
every line, see :func:`notice_problems`) is checked by the source at setup and offered to
``check-config`` through the platform's ``extra["check"]``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import voluptuous as vol

from salvesti.core.config.extensions import owned_extensions, register_owner
from salvesti.core.numbers import normalize_number
from salvesti.core.provisioning import PHONE_FAMILIES
from salvesti.core.schema import known_name
from salvesti.hardware.gateways import available_gateway_profiles, load_gateway_profile
from salvesti.integrations.sip.provisioning import PROVISIONING_SCHEMA, check_phones, mac_address
from salvesti.integrations.sip.weak_passwords import ADVICE, is_loopback, weakness

DEFAULT_SIP_PORT = 5060
CODEC_NAMES = ("PCMU", "PCMA", "G722", "opus")
DIGEST_ALGORITHMS = ("MD5", "SHA-256", "SHA-512-256")

_HOSTPORT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::(\d{1,5}))?$")
_E164_RE = re.compile(r"^\+[1-9]\d{5,14}$")


def split_hostport(value: str, default_port: int | None = DEFAULT_SIP_PORT) -> tuple[str, int | None]:
    """``host``, ``host:port`` or ``[v6]:port`` → (host, port)."""
    m = _HOSTPORT_RE.match(value.strip())
    if not m:
        raise ValueError(f"expected host or host:port, got {value!r}")
    host = m.group(1).strip("[]")
    port = int(m.group(2)) if m.group(2) else default_port
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"port out of range in {value!r}")
    return host, port


def hostport(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid("expected host or host:port, e.g. sip.example.ee or 0.0.0.0:5060")
    try:
        split_hostport(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None
    return value


def port_range(value: Any) -> str:
    """``10000-10999``: an even number of ports is not required, at least two are."""
    m = re.fullmatch(r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*", str(value))
    if not m:
        raise vol.Invalid("expected a port range such as 10000-10999")
    low, high = int(m.group(1)), int(m.group(2))
    if not 1024 <= low < high <= 65535:
        raise vol.Invalid(f"port range {low}-{high} must lie within 1024-65535 and hold at least two ports")
    return f"{low}-{high}"


def e164(value: Any) -> str:
    text = str(value).strip() if isinstance(value, str | int) else None
    if text is None:
        raise vol.Invalid("expected a phone number in E.164 form, e.g. '+3726000000'")
    number = normalize_number(text) or ""
    if not _E164_RE.match(number):
        raise vol.Invalid(f"{text!r} is not a phone number in E.164 form, e.g. '+3726000000'")
    return number


def address_or_network(value: Any) -> str:
    """An IP address, a network in CIDR form, a host name (resolved at setup) or host:port."""
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected an IP address, a network (192.0.2.0/24) or a host name")
    text = value.strip()
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        if not _HOSTPORT_RE.match(text):
            raise vol.Invalid(f"{text!r} is neither an IP address, a network nor a host name") from None
    return text


def name_server(value: Any) -> str:
    """A DNS server for the carrier's NAPTR/SRV lookups: an IP address, optionally :port."""
    text = hostport(value)
    host, _ = split_hostport(text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise vol.Invalid(f"a name server is an IP address (optionally :port), not {text!r}") from None
    return text


def _user(value: Any) -> str:
    text = str(value) if isinstance(value, str | int) else ""
    if not re.fullmatch(r"[A-Za-z0-9_.\-+]{1,32}", text):
        raise vol.Invalid("an extension user is 1-32 letters, digits or _.-+ (e.g. '101')")
    return text


def _hostname(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9.\-]{1,253}", value.strip()):
        raise vol.Invalid("expected a host name, e.g. sip.carrier.example")
    return value.strip()


def _media_security(item: dict[str, Any]) -> dict[str, Any]:
    """SDES puts the SRTP keys in the SDP: over plain UDP/TCP anyone on the path reads
    them and the encryption is for show.  So ``srtp: sdes`` wants ``transport: tls`` unless
    ``srtp_over_plaintext: true`` says the risk is understood; TLS settings without TLS
    are a mistake worth saying."""
    tls = item["transport"] == "tls"
    if item["srtp"] == "sdes" and not tls and not item["srtp_over_plaintext"]:
        raise vol.Invalid(
            "srtp: sdes sends the SRTP keys in the SIP messages, readable by anyone on the path "
            f"unless they travel over TLS: use transport: tls (now {item['transport']}), or set "
            "srtp_over_plaintext: true if the carrier offers nothing better",
            path=["srtp"],
        )
    for key in ("tls_ca_file", "tls_server_name"):
        if key in item and not tls:
            raise vol.Invalid(f"{key} applies to transport: tls only", path=[key])
    return item


_TRUNK_KEYS = vol.Schema(
    {
        vol.Required("registrar"): hostport,
        vol.Required("username"): vol.All(vol.Coerce(str), vol.Length(min=1)),
        vol.Required("password"): vol.All(vol.Coerce(str), vol.Length(min=1)),
        vol.Optional("auth_username"): vol.Coerce(str),
        vol.Optional("domain"): str,
        # tls: SIP over TLS to port 5061 unless the registrar names one; the certificate is
        # always verified (the system's CAs, or tls_ca_file) for the registrar's host name
        # (or tls_server_name).  docs/carriers.md.
        vol.Optional("transport", default="udp"): vol.All(vol.Lower, vol.In(["udp", "tcp", "tls"])),
        vol.Optional("tls_ca_file"): vol.All(str, vol.Length(min=1)),
        vol.Optional("tls_server_name"): _hostname,
        # SRTP with SDES keys (RFC 4568) on the carrier leg; the phones keep plain RTP.
        vol.Optional("srtp", default="off"): vol.All(vol.Lower, vol.In(["off", "sdes"])),
        vol.Optional("srtp_over_plaintext", default=False): bool,
        vol.Optional("expires", default=300): vol.All(int, vol.Range(min=30, max=86400)),
        vol.Optional("inbound_from", default=list): [address_or_network],
        vol.Optional("outbound_proxy"): hostport,
        vol.Optional("from_user"): vol.Coerce(str),
        vol.Optional("line_header"): str,
        vol.Optional("register", default=True): bool,
        # NAT keep-alive toward the carrier: seconds between pings (0: none), and how.
        vol.Optional("keepalive", default=25): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional("keepalive_method", default="crlf"): vol.All(vol.Lower, vol.In(["crlf", "options"])),
    }
)

TRUNK_SCHEMA = vol.All(_TRUNK_KEYS, _media_security)

#: One carrier account per number (CONTRACT "Carrier accounts and hardware SIP gateways"):
#: a trunk's settings plus the line it is for.
ACCOUNT_SCHEMA = vol.All(_TRUNK_KEYS.extend({vol.Required("line"): e164}), _media_security)


def gateway_profile(value: Any) -> str:
    """A shipped gateway profile (``hardware/sip_gateways``); a typo gets the closest name."""
    return known_name(value, available_gateway_profiles(), "gateway profile")


def _gateway_connects(gw: dict[str, Any]) -> dict[str, Any]:
    """A gateway registers (``user`` + ``password``) or is trusted by ``address``, and its
    profile must say it can."""
    has_user, has_address = "user" in gw, "address" in gw
    if has_user == has_address:
        raise vol.Invalid(
            "give either user and password (it registers to us) or address (trusted by address)"
        )
    if has_user and "password" not in gw:
        raise vol.Invalid("required key not provided", path=["password"])
    mode = "registers_to_us" if has_user else "trusted_by_address"
    profile = load_gateway_profile(gw["profile"])
    if mode not in profile.connect:
        raise vol.Invalid(
            f"profile {profile.name} cannot connect as {mode} (it supports {', '.join(profile.connect)})",
            path=["user" if has_user else "address"],
        )
    return gw


GATEWAY_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required("id"): vol.All(str, vol.Match(r"^[A-Za-z0-9_.\-]{1,32}$")),
            vol.Required("profile"): gateway_profile,
            vol.Required("line"): e164,
            vol.Optional("user"): _user,
            vol.Optional("password"): vol.All(vol.Coerce(str), vol.Length(min=4)),
            vol.Optional("address"): address_or_network,
        }
    ),
    _gateway_connects,
)

EXTENSION_SCHEMA = vol.Schema(
    {
        vol.Required("user"): _user,
        vol.Required("password"): vol.All(vol.Coerce(str), vol.Length(min=4)),
        vol.Optional("name"): str,
        vol.Optional("line"): e164,
        # The desk phone provisioned with this account (docs/provisioning.md).
        vol.Optional("mac"): mac_address,
        vol.Optional("phone"): vol.All(vol.Lower, vol.In(PHONE_FAMILIES)),
    }
)

SECURITY_SCHEMA = vol.Schema(
    {
        vol.Optional("max_failures", default=5): vol.All(int, vol.Range(min=1)),
        vol.Optional("window", default=60): vol.All(vol.Coerce(float), vol.Range(min=1)),
        vol.Optional("lockout", default=300): vol.All(vol.Coerce(float), vol.Range(min=0)),
    }
)


def _first_repeat(values: list[Any]) -> int | None:
    seen: set[Any] = set()
    for index, value in enumerate(values):
        if value in seen:
            return index
        seen.add(value)
    return None


def _derive_lines(conf: dict[str, Any]) -> dict[str, Any]:
    """``accounts:`` take the place of ``trunk:`` and ``lines:``; a gateway's line is a line too.

    So ``conf["lines"]`` ends up holding every line the source serves, and everything that
    names a line (inbound, extensions, no_notice, notices) checks against one list.
    """
    accounts, gateways = conf.get("accounts") or [], conf["gateways"]
    if accounts and conf.get("trunk") is not None:
        raise vol.Invalid(
            "give either trunk: (one account for every line) or accounts:, not both", path=["accounts"]
        )
    if accounts and conf["lines"]:
        raise vol.Invalid("with accounts: the lines are the accounts' lines; remove lines:", path=["lines"])
    extra = [a["line"] for a in accounts] + [g["line"] for g in gateways]
    index = _first_repeat(extra)
    if index is not None:
        n = len(accounts)
        where = ["accounts", index, "line"] if index < n else ["gateways", index - n, "line"]
        raise vol.Invalid(
            f"line {extra[index]!r} is served twice (one account or gateway per line)", path=where
        )
    for index, gw in enumerate(gateways):
        if gw["line"] in conf["lines"]:
            raise vol.Invalid(
                f"line {gw['line']!r} is already a trunk line", path=["gateways", index, "line"]
            )
    index = _first_repeat([g["id"] for g in gateways])
    if index is not None:
        raise vol.Invalid(
            f"gateway id {gateways[index]['id']!r} is used twice", path=["gateways", index, "id"]
        )
    conf["lines"] = list(conf["lines"]) + extra
    return conf


def _check_references(conf: dict[str, Any]) -> dict[str, Any]:
    """Lines and extensions named in ``inbound``/``extensions[].line`` must exist."""
    users = [e["user"] for e in conf["extensions"]]
    if len(set(users)) != len(users):
        dup = next(u for u in users if users.count(u) > 1)
        raise vol.Invalid(f"extension {dup!r} is listed twice", path=["extensions"])
    for index, gw in enumerate(conf["gateways"]):
        if gw.get("user") in users:
            raise vol.Invalid(f"user {gw['user']!r} is an extension's too", path=["gateways", index, "user"])
    lines = conf["lines"]
    for line in conf["inbound"]:
        if line not in lines:
            raise vol.Invalid(f"line {line!r} is not in lines: {lines}", path=["inbound", line])
    # Extensions named in inbound may be another source's (a browser phone): check_config.
    for index, ext in enumerate(conf["extensions"]):
        if "line" in ext and ext["line"] not in lines:
            raise vol.Invalid(f"line {ext['line']!r} is not in lines", path=["extensions", index, "line"])
    for line in conf["no_notice"]:
        if line not in lines:
            raise vol.Invalid(f"line {line!r} is not in lines", path=["no_notice", line])
    if conf.get("trunk") is not None and not lines:
        raise vol.Invalid("a trunk needs at least one line (lines: ['+3726000000'])", path=["lines"])
    return conf


def _check_passwords(conf: dict[str, Any]) -> dict[str, Any]:
    """Off loopback, extension and gateway passwords must not be guessable (weak_passwords)."""
    if is_loopback(split_hostport(conf["listen"])[0]):
        return conf
    for key, user_key in (("extensions", "user"), ("gateways", "user")):
        for index, item in enumerate(conf[key]):
            if "password" not in item:
                continue
            why = weakness(str(item.get(user_key) or item.get("id") or ""), item["password"])
            if why is not None:
                raise vol.Invalid(f"the password {why}. {ADVICE}", path=[key, index, "password"])
    return conf


#: ``media_core``: see salvesti.integrations.sip.native.
MEDIA_CORES = ("auto", "native", "python")

SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required("platform"): "sip_trunk",
            vol.Required("id"): str,
            vol.Optional("listen", default="0.0.0.0:5060"): hostport,
            vol.Optional("rtp_ports", default="10000-10999"): port_range,
            # Who relays bridged G.711 calls: the C core when built (auto), always (native), or
            # Python (python).  docs/performance.md has what each carries.
            vol.Optional("media_core", default="auto"): vol.In(MEDIA_CORES),
            # Threads the native core relays in: auto (a CPU core each, less one for the loop),
            # or 0 (the event loop pumps the core itself).
            vol.Optional("media_workers", default="auto"): vol.Any(
                "auto", vol.All(int, vol.Range(min=0, max=64))
            ),
            vol.Optional("advertise"): str,
            # RFC 4028: the shortest session interval accepted (422 below it). 90 s on the
            # public network; lower only in a lab.
            vol.Optional("session_min_se", default=90): vol.All(int, vol.Range(min=1, max=86400)),
            vol.Optional("external_address"): str,
            # DNS servers asked for the registrar's / outbound proxy's NAPTR, SRV and A records
            # (default: the system's resolv.conf).
            vol.Optional("nameservers", default=list): [name_server],
            vol.Optional("trunk"): vol.Any(None, TRUNK_SCHEMA),
            vol.Optional("accounts"): vol.All([ACCOUNT_SCHEMA], vol.Length(min=1)),
            vol.Optional("gateways", default=list): [GATEWAY_SCHEMA],
            vol.Optional("lines", default=list): [e164],
            vol.Optional("extensions", default=list): [EXTENSION_SCHEMA],
            vol.Optional("inbound", default=dict): {e164: [_user]},
            vol.Optional("notice_mode", default="answer"): vol.In(["answer", "early_media"]),
            vol.Optional("record_internal", default=False): bool,
            vol.Optional("digest_algorithms", default=["MD5", "SHA-256"]): vol.All(
                [vol.All(vol.Upper, vol.In(DIGEST_ALGORITHMS))], vol.Length(min=1)
            ),
            vol.Optional("codecs", default=["PCMU", "PCMA", "G722", "opus"]): vol.All(
                [vol.In(CODEC_NAMES)], vol.Length(min=1)
            ),
            vol.Optional("no_answer_timeout", default=45): vol.All(vol.Coerce(float), vol.Range(min=1)),
            vol.Optional("security", default=dict): SECURITY_SCHEMA,
            vol.Optional("no_notice", default=dict): {e164: vol.All(str, vol.Length(min=3))},
            vol.Optional("realm"): str,
            vol.Optional("provisioning"): PROVISIONING_SCHEMA,
        }
    ),
    _derive_lines,
    _check_references,
    _check_passwords,
    check_phones,
)


def notice_problems(conf: dict[str, Any], notice_for: Any) -> list[tuple[list[Any], str]]:
    """Lines that would be recorded without a notice and give no ``no_notice`` reason.

    ``notice_for(direction, line)`` answers whether a notice would play.  Returns
    ``(path, message)`` pairs, path relative to this source item.
    """
    problems = []
    outside = conf.get("trunk") or conf.get("accounts") or conf.get("gateways")
    directions = ["inbound", "outbound"] if outside else []
    for line in conf.get("lines", []):
        if line in conf.get("no_notice", {}):
            continue
        missing = [d for d in directions if not notice_for(d, line)]
        if missing:
            problems.append(
                (
                    ["lines"],
                    f"line {line} has no recording notice for {' and '.join(missing)} calls: add a "
                    f"notice (notices: - platform: audio_file ...) or say why in "
                    f'no_notice: {{"{line}": "reason"}}',
                )
            )
    return problems


def check_config(conf: dict[str, Any], config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Cross-block check for ``check-config``: every line needs a notice or a waiver.

    ``conf`` is this validated source item, ``config`` the whole validated file.
    """
    notices = config.get("notices") or []

    def notice_for(direction: str, line: str) -> bool:
        for n in notices:
            if direction not in n.get("directions", ["inbound", "outbound"]):
                continue
            lines = [normalize_number(x) for x in n.get("lines") or []]
            if lines and line not in lines:
                continue
            if n.get("callers"):  # for some callers only: the others would hear nothing
                continue
            return True
        return False

    problems = notice_problems(conf, notice_for)
    known = owned_extensions(config)
    for line, exts in (conf.get("inbound") or {}).items():
        for ext in exts:
            if ext not in known:
                problems.append((["inbound", line], f"extension {ext!r} is not in extensions of any source"))
    return problems


def _desk_phones(item: dict[str, Any]) -> list[str]:
    return [str(e["user"]) for e in item.get("extensions") or [] if isinstance(e, dict) and "user" in e]


register_owner("sip_trunk", _desk_phones)
