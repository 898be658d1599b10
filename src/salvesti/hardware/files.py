"""Reading a profile file: YAML, then a voluptuous schema, with errors at file:line.

Modem profiles and SIP gateway profiles are both data files that contributors add by
hand, so both fail the same way: ``grandstream_ht813.yaml:12: caller_id.form: value must
be one of ...``.  This module is that shared half; each profile kind has its own schema
and its own dataclasses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml


class ProfileError(ValueError):
    """A profile file is missing, not YAML, or does not match the schema."""


def find_profile(name: str | Path, folder: Path, kind: str) -> Path:
    """A shipped profile by name (``folder/NAME.yaml``), or any profile file by path."""
    if isinstance(name, Path) or str(name).endswith(".yaml"):
        return Path(name)
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise ProfileError(f"unknown {kind} profile {name!r}; known profiles: {known}")
    return path


def read_profile(path: Path, schema: vol.Schema) -> tuple[dict[str, Any], yaml.Node]:
    """The validated mapping of ``path`` and its YAML node tree (for later line numbers).

    Also checks that the profile's ``name`` is its file name, so a copied file that kept
    the old name is caught before two profiles answer to one name.
    """
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
        data = schema(raw)
    except vol.MultipleInvalid as exc:
        lines = []
        for err in sorted(exc.errors, key=lambda e: [str(p) for p in e.path]):
            key = dotted(err.path) or "(top)"
            lines.append(f"{path.name}:{line_of(node, err.path)}: {key}: {err.error_message}")
        raise ProfileError("\n".join(lines)) from exc
    if data["name"] != path.stem:
        raise ProfileError(
            f"{path.name}:{line_of(node, ['name'])}: name: must match the file name {path.stem!r}"
        )
    return data, node


def dotted(path: list) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(node: yaml.Node | None, path: list) -> int:
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
