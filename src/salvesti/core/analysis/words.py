"""Transcribed words and lines, and the one way text is normalised for matching.

Redaction, trackers and phrase statistics all compare words; doing it with one function means
a tracker for "hind" finds "Hind," and the phrase table does not count "Hind" and "hind" apart.
Inner marks stay ("4111-1111", "e-post", "don't"): redaction reads digit groups from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Word:
    """One transcribed word and its time in the call (seconds)."""

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
    """Casefolded, surrounding punctuation stripped ("Hind," -> "hind"); letters of any
    alphabet (õ ä ö ü š ž) and digits kept, and so are inner marks."""
    return _EDGE.sub("", token.casefold())


def tokens(text: str) -> list[str]:
    """The normalised words of ``text`` (split on whitespace; bare punctuation dropped)."""
    return [t for t in (normalize(x) for x in text.split()) if t]
