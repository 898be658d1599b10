"""Trackers: named phrase lists (config) spotted per call and party, with the time said.

A tracker ("price", "recording notice said", "competitor named") is what a business wants to
find again across calls.  Matching is on normalised words (:func:`~salvesti.core.analysis.words.
normalize`), so case and punctuation do not matter, within one transcript line (a phrase split
over two lines is two speech segments, usually not one phrase); ``salvest*`` matches as a
prefix, which is how Estonian's inflected forms are caught with one entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from salvesti.core.analysis.words import Line, normalize, tokens


@dataclass(frozen=True)
class Tracker:
    """A configured id and its phrases (any of them is a hit)."""

    id: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """One phrase said: which tracker, which phrase, by whom (``outside``/``agent``), when."""

    id: str
    phrase: str
    channel: str
    at_s: float

    def to_json(self) -> dict[str, str | float]:
        return {"id": self.id, "phrase": self.phrase, "channel": self.channel, "at_s": round(self.at_s, 2)}


def _pattern(phrase: str) -> list[str]:
    """A phrase as normalised words; a word ending in ``*`` stays a prefix (``salvest*``)."""
    out: list[str] = []
    for word in phrase.split():
        if word.endswith("*"):
            stem = normalize(word.rstrip("*"))
            if stem:
                out.append(stem + "*")
        elif norm := normalize(word):
            out.append(norm)
    return out


def _matches(pattern: list[str], words: list[str], at: int) -> bool:
    for k, want in enumerate(pattern):
        got = words[at + k]
        if want.endswith("*"):
            if not got.startswith(want[:-1]):
                return False
        elif got != want:
            return False
    return True


def spot(lines: list[Line], trackers: list[Tracker]) -> list[Hit]:
    """Every occurrence of every tracker phrase within one line, at the start time of its
    first word (the line's start when it has no word times), sorted by time, then id, phrase
    and channel.  Where two phrases of one tracker match at the same word, the first listed is
    the hit: a place counts once."""
    compiled = [(t.id, p, _pattern(p)) for t in trackers for p in t.phrases]
    hits: list[Hit] = []
    for line in lines:
        if line.words:
            pairs = [(normalize(w.text), w.start_s) for w in line.words]
        else:
            pairs = [(t, line.start_s) for t in tokens(line.text)]
        pairs = [(w, t) for w, t in pairs if w]  # a lone "-" is no word
        words = [w for w, _ in pairs]
        seen: set[tuple[str, int]] = set()
        for tracker_id, phrase, pattern in compiled:
            if not pattern:
                continue
            for at in range(len(words) - len(pattern) + 1):
                if (tracker_id, at) not in seen and _matches(pattern, words, at):
                    seen.add((tracker_id, at))
                    hits.append(Hit(tracker_id, phrase, line.channel, float(pairs[at][1])))
    return sorted(hits, key=lambda h: (h.at_s, h.id, h.phrase, h.channel))
