"""Talk metrics from two parties' speech segments: who talked how much, how the floor moved.

These are what sales coaching looks at (talk share, monologues, interruptions, how quickly
one answers); they need separate channels per party, which Salvesti's stereo layout gives: on a
mixed mono recording overlap and interruptions cannot be seen at all.

The floor model: segments of both parties in start order; a segment that lies wholly inside the
other party's current turn (a backchannel, "mhm") takes no turn; one that starts during the
other's speech and goes on after it (an interruption that succeeds) does.  Monologues, turn
counts and response latencies are read off that list of turns.
"""

from __future__ import annotations

import itertools
import re
import statistics
from dataclasses import dataclass
from typing import Any

Segment = tuple[float, float]
PARTIES = ("outside", "agent")
#: A gap longer than this between turns is not a response (someone was looking something up).
MAX_LATENCY_S = 5.0
#: Segment times come from a 10 ms grid: comparisons allow for float rounding.
_EPS = 1e-6


@dataclass(frozen=True)
class TalkMetrics:
    """Seconds are wall-clock seconds of the call; shares are fractions 0..1.

    ``silence_s`` is dead air between the first and the last speech of anyone;
    ``longest_monologue_s`` the longest turn of each party (its segments, first start to last
    end, with no speech of the other between them); ``interruptions`` are counted for the one
    who cut in; ``response_latency_s`` is the median gap (0-5 s) before each party's turns.
    """

    outside_s: float
    agent_s: float
    agent_share: float
    overlap_s: float
    silence_s: float
    longest_silence_s: float
    turns: int
    longest_monologue_s: dict[str, float]
    interruptions: dict[str, int]
    response_latency_s: dict[str, float | None]

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "outside_s": r(self.outside_s),
            "agent_s": r(self.agent_s),
            "agent_share": r(self.agent_share),
            "overlap_s": r(self.overlap_s),
            "silence_s": r(self.silence_s),
            "longest_silence_s": r(self.longest_silence_s),
            "turns": self.turns,
            "longest_monologue_s": {k: r(v) for k, v in self.longest_monologue_s.items()},
            "interruptions": dict(self.interruptions),
            "response_latency_s": {k: r(v) for k, v in self.response_latency_s.items()},
        }


def _total(segs: list[Segment]) -> float:
    """Seconds covered (``segs`` already a union)."""
    return sum(b - a for a, b in segs)


def _overlap(x: list[Segment], y: list[Segment]) -> float:
    """Seconds where both unions ``x`` and ``y`` (each sorted, non-overlapping) speak."""
    total, i, j = 0.0, 0, 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if b > a:
            total += b - a
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return total


def _union(segs: list[Segment]) -> list[Segment]:
    """Sorted, merged, empty segments dropped; plain floats."""
    out: list[list[float]] = []
    for a, b in sorted((float(a), float(b)) for a, b in segs if b > a):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _turns(outside: list[Segment], agent: list[Segment]) -> list[tuple[str, float, float]]:
    """The floor as a list of (party, start, end): consecutive segments of one party merge; a
    segment lying wholly inside the other party's speech (a backchannel) takes no turn."""
    tagged = sorted(
        [("outside", a, b) for a, b in outside] + [("agent", a, b) for a, b in agent], key=lambda t: t[1]
    )
    turns: list[tuple[str, float, float]] = []
    for party, a, b in tagged:
        if turns and turns[-1][0] == party:
            turns[-1] = (party, turns[-1][1], max(turns[-1][2], b))
            continue
        if turns and b <= turns[-1][2] + _EPS:
            continue  # said while the other held the floor and finished before them
        turns.append((party, a, b))
    return turns


def talk_metrics(
    outside: list[Segment], agent: list[Segment], *, interruption_overlap_s: float = 0.3
) -> TalkMetrics:
    """The metrics of one call from each party's speech segments (seconds, any order)."""
    outside, agent = _union(outside), _union(agent)
    out_s, agent_s = _total(outside), _total(agent)
    union = _union(outside + agent)
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(union)]
    turns = _turns(outside, agent)
    monologue = dict.fromkeys(PARTIES, 0.0)
    for party, a, b in turns:
        monologue[party] = max(monologue[party], b - a)
    interruptions = dict.fromkeys(PARTIES, 0)
    for party, mine, theirs in (("outside", outside, agent), ("agent", agent, outside)):
        for a, b in mine:
            for c, d in theirs:
                if c < a < d and min(b, d) - a >= interruption_overlap_s - _EPS:
                    interruptions[party] += 1
                    break
    latencies: dict[str, list[float]] = {p: [] for p in PARTIES}
    for prev, cur in itertools.pairwise(turns):
        gap = cur[1] - prev[2]
        if -_EPS <= gap <= MAX_LATENCY_S + _EPS:
            latencies[cur[0]].append(max(0.0, gap))
    total = out_s + agent_s
    return TalkMetrics(
        outside_s=out_s,
        agent_s=agent_s,
        agent_share=agent_s / total if total else 0.0,
        overlap_s=_overlap(outside, agent),
        silence_s=sum(gaps),
        longest_silence_s=max(gaps, default=0.0),
        turns=len(turns),
        longest_monologue_s=monologue,
        interruptions=interruptions,
        response_latency_s={p: (statistics.median(v) if v else None) for p, v in latencies.items()},
    )


_QUESTION_START = re.compile(
    r"^(kas|miks|kuidas|mis|millal|kus|kes|kui palju|kellele|what|why|how|when|where|who|do you|can you|"
    r"could you|would you|is it|are you)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_LEADING = re.compile(r"^[\W_]+")


def question_rate(agent_texts: list[str], agent_s: float) -> float | None:
    """The agent's questions per minute of the agent's talk: sentences ending in '?', and
    sentences starting with an Estonian or English question word (speech to text often drops
    the '?'); None when the agent did not talk."""
    if agent_s <= 0:
        return None
    count = 0
    for text in agent_texts:
        for sentence in _SENTENCE.findall(text):
            s = _LEADING.sub("", sentence.strip())
            if s and ("?" in s[len(s.rstrip(".!?")) :] or _QUESTION_START.match(s)):
                count += 1
    return round(count / (agent_s / 60.0), 3)
