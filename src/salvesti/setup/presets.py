"""Carrier shapes offered on the carrier step, as data (``presets.yaml`` beside this module).

Kept as data so a new shape (or a carrier's own defaults) is a YAML edit, not a code change;
the page shows each one's title and help, the wizard maps its ``shape`` onto ``trunk:`` or
``accounts:`` of the sip_trunk source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PRESETS_FILE = Path(__file__).with_name("presets.yaml")
SHAPES = ("trunk", "accounts", "none")


@dataclass(frozen=True)
class Preset:
    id: str
    shape: str
    title: dict[str, str]
    help: dict[str, str]
    example: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "shape": self.shape,
            "title": self.title,
            "help": self.help,
            "example": self.example,
        }


@cache
def load_presets(path: Path = PRESETS_FILE) -> tuple[Preset, ...]:
    """Every preset in the file; ValueError names the bad item (a packaging bug, not user input)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: list[Preset] = []
    for index, item in enumerate(data.get("presets") or []):
        if item.get("shape") not in SHAPES or not item.get("id"):
            raise ValueError(f"{path.name}: presets[{index}]: needs an id and a shape in {SHAPES}")
        out.append(
            Preset(
                item["id"],
                item["shape"],
                dict(item.get("title") or {}),
                dict(item.get("help") or {}),
                dict(item.get("example") or {}),
            )
        )
    return tuple(out)


def preset(preset_id: str) -> Preset | None:
    return next((p for p in load_presets() if p.id == preset_id), None)
