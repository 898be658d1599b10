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

import voluptuous as vol
import yaml

from .schema import PROFILE

MODEMS_DIR = Path(__file__).parent / "modems"


class ProfileError(ValueError):
    """A profile file is missing, not YAML, or does not match the schema."""


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
    path = Path(name) if isinstance(name, Path) or str(name).endswith(".yaml") else None
    if path is None:
        path = MODEMS_DIR / f"{name}.yaml"
        if not path.is_file():
            known = ", ".join(available_profiles())
            raise ProfileError(f"unknown modem profile {name!r}; known profiles: {known}")
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark else path.name
        raise ProfileError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(raw, dict):
        raise ProfileError(f"{path.name}:1: a profile must be a mapping")
    try:
        data = PROFILE(raw)
    except vol.MultipleInvalid as exc:
        lines = []
        for err in sorted(exc.errors, key=lambda e: [str(p) for p in e.path]):
            line = _line_of(node, err.path)
            key = _dotted(err.path) or "(top)"
            lines.append(f"{path.name}:{line}: {key}: {err.error_message}")
        raise ProfileError("\n".join(lines)) from exc
    if data["name"] != path.stem:
        line = _line_of(node, ["name"])
        raise ProfileError(f"{path.name}:{line}: name: must match the file name {path.stem!r}")
    if not any("{number}" in c["cmd"] for c in data["dial"]):
        line = _line_of(node, ["dial"])
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


def _dotted(path: list) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node: yaml.Node | None, path: list) -> int:
    """Line (1-based) of the deepest YAML node on ``path`` that exists; a missing key
    points at its parent block."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


__all__ = [
    "MODEMS_DIR",
    "AudioSpec",
    "Command",
    "Profile",
    "ProfileError",
    "available_profiles",
    "load_profile",
]
