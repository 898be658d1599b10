"""Which writer answers which file name: the registry of phone families.

Yealink and Fanvil both ask for ``<mac>.cfg``, so a name alone does not tell the family; the
configured extension does.  :func:`parse` gives the MAC and the families whose phones ask
for that name, and the route serves only when the extension's family is one of them.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Protocol

from salvesti.plugins.http.provisioning import fanvil, grandstream, snom, yealink
from salvesti.plugins.http.provisioning.settings import PhoneSettings


class FamilyWriter(Protocol):
    FAMILY: str
    CONTENT_TYPE: str

    def file_names(self, mac: str) -> tuple[str, ...]: ...

    def render(self, s: PhoneSettings) -> str: ...


WRITERS: dict[str, ModuleType] = {m.FAMILY: m for m in (yealink, grandstream, snom, fanvil)}

_HEX = "[0-9a-fA-F]{12}"
#: File-name shapes phones ask for, each with the MAC in group 1.
_SHAPES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(f"({_HEX})\\.cfg"), ("yealink", "fanvil")),
    (re.compile(f"cfg({_HEX})(?:\\.xml)?"), ("grandstream",)),
    (re.compile(f"({_HEX})\\.xml"), ("snom",)),
)


def parse(name: str) -> tuple[str, tuple[str, ...]] | None:
    """``001565123456.cfg`` -> (``001565123456``, (yealink, fanvil)); None for other names
    (common files such as ``y000000000028.cfg`` or ``cfg.xml``, which we do not serve)."""
    for pattern, families in _SHAPES:
        m = pattern.fullmatch(name)
        if m:
            return m.group(1).lower(), families
    return None


def writer(family: str) -> FamilyWriter:
    return WRITERS[family]  # type: ignore[return-value]
