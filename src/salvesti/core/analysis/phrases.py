"""What goes with won calls: the phrases of each call, and a score that does not over-read.

Each analysed call contributes its set of distinct phrases (1-3 word n-grams within a line,
without function words).  Per phrase, the calls of each outcome that contain it are counted,
and won is compared with lost by a smoothed log-odds ratio with an informative prior (after
Monroe, Colaresi and Quinn 2008, "Fightin' Words", on call counts instead of word counts):
each outcome's rate is pulled toward the phrase's rate over both outcomes by ``PRIOR_CALLS``
pseudo-calls, so a phrase seen in two calls cannot look as strong as one seen in forty.
``lift`` is that log-odds ratio (positive: goes with won), ``z`` divides it by its standard
error.  Counts are always returned with the scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from salvesti.core.analysis.redact import REDACTED
from salvesti.core.analysis.words import Line, tokens

OUTCOMES = ("won", "lost", "follow_up")
PRIOR_CALLS = 2.0

STOPWORDS = frozenset(
    """
    a an the and or but if then so of to in on at by for with from as is are was were be been being
    am do does did have has had it its this that these those there here i you he she we they me him
    her us them my your his our their what which who whom when where why how not no yes can could
    will would shall should may might must just also very too than into about up down out over all
    any some such only own same both each few more most other again once oh ok okay um uh yeah well
    hello hi thank thanks please sorry right now let get got go going know like one
    ja ning ka et kui see seda selle need neid on oli olid olen oled oleme olete ole ei ära mitte
    ma mina sa sina ta tema me meie te teie nad nemad mu minu su sinu tal teil meil mul sul
    mis kes kus kas miks kuidas millal siis nii veel juba väga ainult kõik iga üks üht ühe
    aga või vaid ehk kuna sest et siin seal nüüd praegu jah tere aitäh palun vabandust noh no
    """.split()
)


def call_terms(lines: list[Line], *, n_max: int = 3) -> set[str]:
    """Distinct 1..n_max-grams per line: no stopword unigrams or short ones, no n-gram that
    starts or ends with a stopword, nothing with digits or redactions."""
    out: set[str] = set()
    for line in lines:
        words = [t for t in tokens(line.text.replace(REDACTED, " \x00 "))]
        for n in range(1, n_max + 1):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if any(any(ch.isdigit() for ch in w) or w == "\x00" or "[" in w for w in gram):
                    continue
                if gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
                    continue
                if n == 1 and len(gram[0]) < 3:
                    continue
                out.add(" ".join(gram))
    return out


@dataclass
class PhraseStat:
    phrase: str
    won: int
    lost: int
    follow_up: int
    lift: float
    z: float

    def to_json(self) -> dict[str, Any]:
        return {
            "phrase": self.phrase,
            "won": self.won,
            "lost": self.lost,
            "follow_up": self.follow_up,
            "lift": round(self.lift, 3),
            "z": round(self.z, 3),
        }


def outcome_counts(outcomes: list[str | None]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for outcome in outcomes:
        if outcome in counts:
            counts[outcome] += 1
    return counts


def _score(y_won: int, n_won: int, y_lost: int, n_lost: int) -> tuple[float, float]:
    rate = (y_won + y_lost) / (n_won + n_lost)
    # Half a call each way on top of the prior keeps a phrase in every call (rate 1) finite.
    a_in, a_out = PRIOR_CALLS * rate + 0.5, PRIOR_CALLS * (1 - rate) + 0.5
    won_in, won_out = y_won + a_in, n_won - y_won + a_out
    lost_in, lost_out = y_lost + a_in, n_lost - y_lost + a_out
    lift = math.log(won_in / won_out) - math.log(lost_in / lost_out)
    variance = 1 / won_in + 1 / won_out + 1 / lost_in + 1 / lost_out
    return lift, lift / math.sqrt(variance)


def rank_phrases(
    calls: list[tuple[str, set[str]]], *, min_calls: int = 2, limit: int = 50
) -> list[PhraseStat]:
    """Phrases by how strongly they go with won rather than lost calls (won first)."""
    totals = outcome_counts([o for o, _ in calls])
    n_won, n_lost = totals["won"], totals["lost"]
    counts: dict[str, dict[str, int]] = {}
    for outcome, terms in calls:
        if outcome not in totals:
            continue
        for term in terms:
            counts.setdefault(term, dict.fromkeys(OUTCOMES, 0))[outcome] += 1
    stats: list[PhraseStat] = []
    for phrase, c in counts.items():
        if c["won"] + c["lost"] < min_calls or n_won == 0 or n_lost == 0:
            continue
        lift, z = _score(c["won"], n_won, c["lost"], n_lost)
        stats.append(PhraseStat(phrase, c["won"], c["lost"], c["follow_up"], lift, z))
    stats.sort(key=lambda s: (-s.z, -(s.won + s.lost), s.phrase))
    if len(stats) > 2 * limit:
        stats = stats[:limit] + stats[-limit:]
    return stats
