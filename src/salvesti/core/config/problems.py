"""Turning voluptuous errors into one-line ``FILE:LINE: dotted.key: message`` problems.

voluptuous reports a key path; the loaded YAML nodes know lines.  This module walks the
nodes along the path to find the line (a missing key points at its parent block's line),
renders the path as ``sources[0].trunk.registrar`` and rewords voluptuous' messages into
the singular, specific phrasing the CLI prints ("extra key not allowed, did you mean ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from salvesti.core.config.yaml_loader import LineDict, LineList, Mark, SecretStr
from salvesti.core.schema import suggest

Path_ = list[Any]

_SENSITIVE = ("password", "secret", "token", "dsn", "key")


class ConfigWarning(str):
    """A cross-check message that does not make the file invalid (a certificate that expires
    soon): ``load_config`` hands it back as a warning line instead of raising."""


@dataclass(frozen=True)
class Problem:
    mark: Mark
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.mark}: {self.key}: {self.message}" if self.key else f"{self.mark}: {self.message}"


def key_name(step: Any) -> Any:
    """The plain key behind a voluptuous marker (``Required('id')`` → ``'id'``)."""
    return step.schema if isinstance(step, vol.Marker) else step


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def dotted(path: Path_) -> str:
    """``['sources', 0, 'inbound', '+3726000000']`` → ``sources[0].inbound['+3726000000']``."""
    out = ""
    for step in path:
        step = key_name(step)
        if isinstance(step, int):
            out += f"[{step}]"
        elif isinstance(step, str) and _PLAIN_KEY.fullmatch(step):
            out += ("." if out else "") + step
        else:
            out += f"[{step!r}]"
    return out


def locate(node: Any, path: Path_, default: Mark) -> Mark:
    """The line of the value at ``path``: the key's line for mapping values, the item's for lists."""
    mark = getattr(node, "mark", default)
    for step in path:
        step = key_name(step)
        if isinstance(node, LineDict) and step in node:
            mark = node.key_mark(step)
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            mark = node.item_mark(step)
            node = node[step]
        else:
            break
    return mark


def value_at(node: Any, path: Path_) -> Any:
    for step in path:
        step = key_name(step)
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def schema_keys(schema: Any, path: Path_) -> list[str]:
    """Literal keys a schema accepts at ``path`` (for "did you mean"); best effort."""
    found: list[str] = []

    def walk(sch: Any, rest: Path_) -> None:
        if isinstance(sch, vol.Schema):
            walk(sch.schema, rest)
        elif isinstance(sch, vol.All | vol.Any):
            for validator in sch.validators:
                walk(validator, rest)
        elif isinstance(sch, dict):
            if not rest:
                found.extend(str(key_name(k)) for k in sch if isinstance(key_name(k), str))
                return
            for k, v in sch.items():
                if key_name(k) == key_name(rest[0]):
                    walk(v, rest[1:])
        elif isinstance(sch, list) and rest and isinstance(key_name(rest[0]), int):
            for item in sch:
                walk(item, rest[1:])

    walk(schema, path)
    return sorted(set(found))


def _shown(value: Any, path: Path_) -> str | None:
    """The offending value for the message, unless it is or may be a secret."""
    if isinstance(value, SecretStr):
        return None
    if any(s in str(key_name(p)).lower() for p in path for s in _SENSITIVE):
        return None
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def from_invalid(
    err: vol.Invalid,
    *,
    root: Any,
    prefix: Path_,
    schema: Any,
    label: str = "",
    default: Mark,
) -> Problem:
    """One :class:`Problem` from a voluptuous error raised on the node at ``prefix`` in ``root``."""
    path = list(err.path)
    msg = err.error_message
    node = value_at(root, prefix)
    if isinstance(err, vol.RequiredFieldInvalid) or msg == "required key not provided":
        parent = path[:-1]
        name = key_name(path[-1]) if path else "?"
        mark = locate(root, prefix + parent, default)
        key = dotted(prefix + parent)
        if not parent and label:
            key = f"{key} {label}"
        return Problem(mark, key, f"required key {name!r} not provided")
    mark = locate(root, prefix + path, default)
    key = dotted(prefix + path)
    if msg == "extra keys not allowed" and path:
        hint = suggest(key_name(path[-1]), schema_keys(schema, path[:-1]))
        return Problem(mark, key, f"extra key not allowed{hint}")
    if not path and label:
        key = f"{key} {label}"
    typed = (
        vol.TypeInvalid,
        vol.ScalarInvalid,
        vol.CoerceInvalid,
        vol.InInvalid,
        vol.RangeInvalid,
        vol.MatchInvalid,
    )
    if isinstance(err, typed) or msg.startswith("expected ") or msg == "not a valid value":
        shown = _shown(value_at(node, path), path)
        if shown is not None:
            msg = f"{msg}, got {shown}"
    return Problem(mark, key, msg)


def from_exception(err: vol.Invalid, **kwargs: Any) -> list[Problem]:
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    return [from_invalid(e, **kwargs) for e in errors]
