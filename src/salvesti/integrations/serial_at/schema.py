"""Config of a ``serial_at`` source (CONTRACT.md, "Configuration")."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from salvesti.hardware import available_profiles, load_profile

ITEM = vol.Schema(
    {
        vol.Required("platform"): "serial_at",
        vol.Required("id"): vol.All(str, vol.Length(min=1)),
        vol.Required("device"): vol.All(str, vol.Length(min=1)),
        vol.Optional("audio_device"): vol.All(str, vol.Length(min=1)),
        vol.Required("profile"): vol.In(available_profiles()),
        vol.Required("line"): vol.All(str, vol.Length(min=1)),
        vol.Optional("answer_after_rings", default=2): vol.All(int, vol.Range(min=1, max=20)),
        # SIP extensions to bridge to after the notice: accepted for forward compatibility;
        # this version answers, plays the notice and records (see docs/serial-devices.md).
        vol.Optional("extensions", default=[]): [str],
        vol.Optional("sink"): str,
        # V.253 modems: try AT+VTR (both directions at once) before the half-duplex
        # +VTX / +VRX sequence; many chipsets refuse it, then half duplex is used.
        vol.Optional("full_duplex", default=False): bool,
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
