"""SIP gateway profiles as data: ``sip_gateways/*.yaml`` read into :class:`GatewayProfile`.

``load_gateway_profile("grandstream_ht813")`` validates the file against
:data:`salvesti.hardware.gateway_schema.PROFILE` and fails with :class:`ProfileError`
naming file, line and key, exactly like the modem profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .files import ProfileError, find_profile, line_of, read_profile
from .gateway_schema import PROFILE, check_consistency

GATEWAYS_DIR = Path(__file__).parent / "sip_gateways"


@dataclass(frozen=True)
class CallerIdSpec:
    """Where a gateway puts the calling number and in which form."""

    headers: tuple[str, ...]
    form: str
    withheld: tuple[str, ...]


@dataclass(frozen=True)
class GatewayProfile:
    """Everything Salvesti knows about one model of SIP gateway (see ``sip_gateways/*.yaml``)."""

    name: str
    title: str
    kind: str  # fxo | gsm
    ports: int
    connect: tuple[str, ...]
    recommended_connect: str
    caller_id: CallerIdSpec
    dtmf_modes: tuple[str, ...]
    dtmf_default: str
    provisional: str
    codecs: tuple[str, ...]
    keepalive_method: str
    keepalive_interval_s: int | None
    answer_supervision: str  # of calls out through the gateway: network | polarity_reversal | none
    quirks: tuple[str, ...]
    notes: str
    unknown: tuple[str, ...]
    sources: tuple[str, ...]
    path: Path

    @property
    def supervised(self) -> bool:
        """True when the gateway's 200 OK means the far party really answered."""
        return self.answer_supervision != "none"


def available_gateway_profiles() -> list[str]:
    """Names of the shipped gateway profiles, sorted."""
    return sorted(p.stem for p in GATEWAYS_DIR.glob("*.yaml"))


@cache
def load_gateway_profile(name: str | Path) -> GatewayProfile:
    """Load a shipped gateway profile by name, or any profile file by path (cached: the
    files ship with the package and do not change while it runs)."""
    path = find_profile(name, GATEWAYS_DIR, "SIP gateway")
    data, node = read_profile(path, PROFILE)
    problems = check_consistency(data)
    if problems:
        raise ProfileError(
            "\n".join(
                f"{path.name}:{line_of(node, where)}: {'.'.join(where)}: {msg}" for where, msg in problems
            )
        )
    cid = data["caller_id"]
    return GatewayProfile(
        name=data["name"],
        title=data["title"],
        kind=data["kind"],
        ports=data["ports"],
        connect=tuple(data["connect"]["supported"]),
        recommended_connect=data["connect"]["recommended"],
        caller_id=CallerIdSpec(tuple(cid["headers"]), cid["form"], tuple(w.lower() for w in cid["withheld"])),
        dtmf_modes=tuple(data["dtmf"]["modes"]),
        dtmf_default=data["dtmf"]["default"],
        provisional=data["provisional"],
        codecs=tuple(data["codecs"]),
        keepalive_method=data["keepalive"]["method"],
        keepalive_interval_s=data["keepalive"].get("interval_s"),
        answer_supervision=data["answer_supervision"]["outbound"],
        quirks=tuple(data["quirks"]),
        notes=data["notes"],
        unknown=tuple(data["unknown"]),
        sources=tuple(data["sources"]),
        path=path,
    )


__all__ = [
    "GATEWAYS_DIR",
    "CallerIdSpec",
    "GatewayProfile",
    "available_gateway_profiles",
    "load_gateway_profile",
]
