"""Trackers: named phrase lists (config) spotted per call and party, with the time said."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from salvesti.core.analysis.words import Line, normalize, tokens


@dataclass(frozen=True)
class Tracker:
    id: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    id: str
    phrase: str
    channel: str
    at_s: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "phrase": self.phrase, "channel": self.channel, "at_s": round(self.at_s, 2)}


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
    """Every occurrence of every tracker phrase (case and punctuation ignored; ``salvest*`` is
    a prefix), within one line, at the start time of its first word."""
    compiled = [(t.id, p, [x if x.endswith("*") else normalize(x) for x in p.casefold().split()])
                for t in trackers for p in t.phrases]  # fmt: skip
    hits: list[Hit] = []
    for line in lines:
        words = [normalize(w.text) for w in line.words] if line.words else tokens(line.text)
        times = [w.start_s for w in line.words] if line.words else [line.start_s] * len(words)
        for tracker_id, phrase, pattern in compiled:
            if not pattern:
                continue
            for at in range(len(words) - len(pattern) + 1):
                if _matches(pattern, words, at):
                    hits.append(Hit(tracker_id, phrase, line.channel, times[at]))
    return sorted(hits, key=lambda h: (h.at_s, h.id))
