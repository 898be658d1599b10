"""Config of a ``serial_at`` source (CONTRACT.md, "Configuration")."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from salvesti.core.config.extensions import owned_extensions
from salvesti.core.numbers import normalize_number
from salvesti.core.schema import known_name
from salvesti.hardware import available_profiles, load_profile

DEVICE_HINT = "must be an absolute device path such as /dev/serial/by-id/... or /dev/ttyUSB0"


def device_path(value: Any) -> str:
    """An absolute path, not checked for existence: USB devices come and go, and the
    source retries at run time (a device absent at start is ``setup_retry``).  Relative
    paths are refused because they would depend on the directory Salvesti starts in."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise vol.Invalid(DEVICE_HINT)
    return value


def profile_name(value: Any) -> str:
    """A shipped profile; a typo gets the closest name, anything else the list."""
    return known_name(value, available_profiles(), "profile")


ITEM = vol.Schema(
    {
        vol.Required("platform"): "serial_at",
        vol.Required("id"): vol.All(str, vol.Length(min=1)),
        vol.Required("device"): device_path,
        vol.Optional("audio_device"): device_path,
        vol.Required("profile"): profile_name,
        vol.Required("line"): vol.All(str, vol.Length(min=1)),
        vol.Optional("answer_after_rings", default=2): vol.All(int, vol.Range(min=1, max=20)),
        # SIP extensions (of a sip_trunk source in the same config) that ring after the
        # notice; the line is bridged to the first that answers (docs/serial-devices.md).
        vol.Optional("extensions", default=[]): [str],
        # Seconds the extensions ring before the call is kept as a message instead.
        # Seconds an outbound call (salvesti dial) may ring before it counts as no_answer.
        vol.Optional("dial_timeout", default=60.0): vol.All(vol.Coerce(float), vol.Range(min=5, max=300)),
        vol.Optional("extension_timeout", default=30.0): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=600)
        ),
        vol.Optional("sink"): str,
        # V.253 modems: try AT+VTR (both directions at once) before the half-duplex
        # +VTX / +VRX sequence; many chipsets refuse it, then half duplex is used.
        vol.Optional("full_duplex", default=False): bool,
        # Why this line may be recorded without a notice (e.g. the caller is told by an
        # announcement of the carrier); without it a notice must match the line.
        vol.Optional("no_notice"): vol.All(str, vol.Length(min=3)),
        vol.Optional("baudrate"): vol.All(int, vol.Range(min=1200)),
        # Seconds without RING after which an unanswered call counts as given up
        # (analogue lines do not say that the caller hung up before the answer).
        vol.Optional("ring_timeout", default=10.0): vol.All(vol.Coerce(float), vol.Range(min=1, max=60)),
    }
)


def _audio_device_when_needed(conf: dict[str, Any]) -> dict[str, Any]:
    profile = load_profile(conf["profile"])
    if profile.audio.transport == "separate_port" and "audio_device" not in conf:
        hint = f": {profile.audio.port_hint}" if profile.audio.port_hint else ""
        raise vol.Invalid(
            f"required with profile {conf['profile']!r}, whose audio has its own serial port{hint}",
            path=["audio_device"],
        )
    return conf


SCHEMA = vol.All(ITEM, _audio_device_when_needed)


def notice_problem(conf: dict[str, Any], has_notice: bool) -> str | None:
    """The message when inbound calls on this line would be recorded without a notice."""
    if has_notice or conf.get("no_notice"):
        return None
    return (
        f"line {conf['line']} has no recording notice for inbound calls: add a notice "
        f'(notices: - platform: audio_file ...) or say why in no_notice: "reason"'
    )


def check_config(conf: dict[str, Any], config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Cross-block check for ``check-config``: the line needs a notice or a waiver, and
    the extensions must exist on a sip_trunk source."""
    country = (config.get("salvesti") or {}).get("default_country", "EE")
    line = normalize_number(conf["line"], country)
    has_notice = False
    for notice in config.get("notices") or []:
        if "inbound" not in notice.get("directions", ["inbound", "outbound"]) or notice.get("callers"):
            continue  # a notice for some callers only leaves the others without one
        lines = [normalize_number(x, country) for x in notice.get("lines") or []]
        if not lines or line in lines:
            has_notice = True
    problems: list[tuple[list[Any], str]] = []
    problem = notice_problem(conf, has_notice)
    if problem:
        problems.append((["line"], problem))
    problems += _unknown_extensions(conf, config)
    return problems


def _unknown_extensions(conf: dict[str, Any], config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Each of ``extensions:`` must be a phone of some source in this config (a desk phone
    of a ``sip_trunk`` source or a browser phone of a ``webrtc`` source)."""
    known = owned_extensions(config)
    return [
        (["extensions", i], f"extension {user!r} is not an extension of any sip_trunk or webrtc source")
        for i, user in enumerate(conf.get("extensions") or [])
        if user not in known
    ]
