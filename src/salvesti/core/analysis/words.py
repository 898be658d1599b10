"""Transcribed words and lines, and the one way text is normalised for matching."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Word:
    text: str
    start_s: float
    end_s: float


@dataclass
class Line:
    """One transcript segment of one party (``outside`` or ``agent``)."""

    channel: str
    start_s: float
    end_s: float
    text: str
    words: list[Word] = field(default_factory=list)


_EDGE = re.compile(r"^[^\w]+|[^\w]+$")


def normalize(token: str) -> str:
    """Casefolded, surrounding punctuation stripped ("Hind," -> "hind"); inner marks kept."""
    return _EDGE.sub("", token.casefold())


def tokens(text: str) -> list[str]:
    return [t for t in (normalize(x) for x in text.split()) if t]
