"""Device profiles as data: ``modems/*.yaml`` read into :class:`Profile` objects.

``load_profile("simcom_sim7600")`` validates the file against
:data:`salvesti.hardware.schema.PROFILE` and fails with :class:`ProfileError`, whose
message names the file, the line and the dotted key (``simcom_sim7600.yaml:42:
audio.encoding: value must be one of ...``), so a contributor adding a device sees
at once what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import ProfileError, find_profile, line_of, read_profile
from .schema import PROFILE

MODEMS_DIR = Path(__file__).parent / "modems"


@dataclass(frozen=True)
class Command:
    """One AT command of a profile; ``optional`` means ERROR is tolerated."""

    cmd: str
    timeout: float = 2.0
    optional: bool = False
    why: str | None = None


@dataclass(frozen=True)
class AudioSpec:
    """Where a call's audio flows and in which format."""

    transport: str  # dle_voice | separate_port
    encoding: str  # s16le | u8 | ulaw | alaw
    sample_rate: int
    channels: int
    duplex: str  # full | half
    receive: tuple[Command, ...] = ()
    transmit: tuple[Command, ...] = ()
    full_duplex: tuple[Command, ...] = ()
    start: tuple[Command, ...] = ()
    stop: tuple[Command, ...] = ()
    port_hint: str | None = None
    frame_bytes: int | None = None
    notes: str | None = None

    @property
    def bytes_per_second(self) -> int:
        """Byte rate on the wire (before DLE shielding), e.g. 16000 for s16le at 8 kHz."""
        width = 2 if self.encoding == "s16le" else 1
        return self.sample_rate * self.channels * width


@dataclass(frozen=True)
class Profile:
    """Everything Salvesti knows about one kind of device (see ``modems/*.yaml``)."""

    name: str
    title: str
    kind: str
    baudrate: int
    init: tuple[Command, ...]
    answer: tuple[Command, ...]
    dial: tuple[Command, ...]
    hangup: tuple[Command, ...]
    caller_id_method: str
    audio: AudioSpec
    hangup_detection: tuple[str, ...]
    messages: dict[str, Any]
    quirks: tuple[str, ...]
    notes: str
    unknown: tuple[str, ...]
    sources: tuple[str, ...]
    path: Path

    def dial_commands(self, number: str) -> list[Command]:
        """The dial commands with ``{number}`` filled in."""
        return [Command(c.cmd.replace("{number}", number), c.timeout, c.optional, c.why) for c in self.dial]

    def all_commands(self) -> list[Command]:
        """Every command the profile may send (the simulator answers each of them)."""
        a = self.audio
        groups = (self.init, self.answer, self.dial, self.hangup)
        groups += (a.receive, a.transmit, a.full_duplex, a.start, a.stop)
        return [c for group in groups for c in group]


def available_profiles() -> list[str]:
    """Names of the shipped profiles, sorted."""
    return sorted(p.stem for p in MODEMS_DIR.glob("*.yaml"))


def load_profile(name: str | Path) -> Profile:
    """Load a shipped profile by name, or any profile file by path."""
    path = find_profile(name, MODEMS_DIR, "modem")
    data, node = read_profile(path, PROFILE)
    if not any("{number}" in c["cmd"] for c in data["dial"]):
        line = line_of(node, ["dial"])
        raise ProfileError(f"{path.name}:{line}: dial: no command contains {{number}}")
    return _build(data, path)


def _commands(items: list[dict]) -> tuple[Command, ...]:
    return tuple(Command(i["cmd"], i["timeout"], i["optional"], i.get("why")) for i in items)


def _build(d: dict, path: Path) -> Profile:
    a = d["audio"]
    audio = AudioSpec(
        transport=a["transport"],
        encoding=a["encoding"],
        sample_rate=a["sample_rate"],
        channels=a["channels"],
        duplex=a["duplex"],
        receive=_commands(a["receive"]),
        transmit=_commands(a["transmit"]),
        full_duplex=_commands(a["full_duplex"]),
        start=_commands(a["start"]),
        stop=_commands(a["stop"]),
        port_hint=a.get("port_hint"),
        frame_bytes=a.get("frame_bytes"),
        notes=a.get("notes"),
    )
    return Profile(
        name=d["name"],
        title=d["title"],
        kind=d["kind"],
        baudrate=d["baudrate"],
        init=_commands(d["init"]),
        answer=_commands(d["answer"]),
        dial=_commands(d["dial"]),
        hangup=_commands(d["hangup"]),
        caller_id_method=d["caller_id"]["method"],
        audio=audio,
        hangup_detection=tuple(d["hangup_detection"]),
        messages=d["messages"],
        quirks=tuple(d["quirks"]),
        notes=d["notes"],
        unknown=tuple(d["unknown"]),
        sources=tuple(d["sources"]),
        path=path,
    )


__all__ = [
    "MODEMS_DIR",
    "AudioSpec",
    "Command",
    "Profile",
    "ProfileError",
    "available_profiles",
    "load_profile",
]
