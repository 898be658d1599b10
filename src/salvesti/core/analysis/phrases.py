"""What goes with won calls: the phrases of each call, and a score that does not over-read.

Each analysed call contributes its set of distinct phrases (1-3 word n-grams within a line,
without function words).  Per phrase, the calls of each outcome that contain it are counted,
and won is compared with lost by a smoothed log-odds ratio with an informative prior (after
Monroe, Colaresi and Quinn 2008, "Fightin' Words", on call counts instead of word counts):
each call is one trial (the phrase was said or not), and each outcome's rate is pulled toward
the phrase's rate over all calls (follow-ups included) by ``PRIOR_CALLS`` pseudo-calls, plus
half a call each way so that a phrase in every call stays finite.  A phrase seen in two calls
therefore cannot look as strong as one seen in forty, and a phrase as common in won as in lost
calls scores ~0.  The variance is the sum of the reciprocal smoothed counts (delta method).
``lift`` is that log-odds ratio (positive: goes with won), ``z`` divides it by its standard
error.  Counts are always returned with the scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from salvesti.core.analysis.redact import REDACTED
from salvesti.core.analysis.words import Line, normalize, tokens

OUTCOMES = ("won", "lost", "follow_up")
PRIOR_CALLS = 2.0
_REDACTED_WORD = normalize(REDACTED)

STOPWORDS = frozenset(
    """
    a an the and or but if then so of to in on at by for with from as is are was were be been being
    am do does did have has had it its this that these those there here i you he she we they me him
    her us them my your his our their what which who whom when where why how not no yes can could
    will would shall should may might must just also very too than into about up down out over all
    any some such only own same both each few more most other again once oh ok okay um uh yeah well
    hello hi thank thanks please sorry right now let get got go going know like one
    i'm it's that's don't doesn't didn't can't won't isn't we're you're they're i'll we'll
    ja ning ka et kui see seda selle need neid on oli olid olen oled oleme olete ole ei ära mitte
    sellest sellele selles siia sinna seal sealt oma ise enda endale mulle sulle talle neile teile
    meile mind sind teda meid teid nende tema temaga minuga kuid nagu kuni ilma koos pärast enne
    üle alla peale poolt juures vastu jaoks kohta abil tõttu ju küll ikka siis vist kas siis
    olnud oleks oleksin võib saab saan saate peab pole polnud

    ma mina sa sina ta tema me meie te teie nad nemad mu minu su sinu tal teil meil mul sul
    mis kes kus kas miks kuidas millal siis nii veel juba väga ainult kõik iga üks üht ühe
    aga või vaid ehk kuna sest et siin seal nüüd praegu jah tere aitäh palun vabandust noh no
    """.split()
)


def _stretches(text: str) -> list[list[str]]:
    """The line's words, split at redactions and numbers: no n-gram spans them, so nothing is
    learned from card data and "25 euros" does not make a phrase of every price."""
    out: list[list[str]] = [[]]
    for word in tokens(text):
        if word == _REDACTED_WORD or any(ch.isdigit() for ch in word):
            out.append([])
        else:
            out[-1].append(word)
    return [x for x in out if x]


def call_terms(lines: list[Line], *, n_max: int = 3) -> set[str]:
    """Distinct 1..n_max-grams per line: no stopword unigrams or short ones, no n-gram that
    starts or ends with a stopword, nothing with digits or redactions."""
    out: set[str] = set()
    for line in lines:
        for words in _stretches(line.text):
            for n in range(1, n_max + 1):
                for i in range(len(words) - n + 1):
                    gram = words[i : i + n]
                    if gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
                        continue
                    if n == 1 and len(gram[0]) < 3:
                        continue
                    out.add(" ".join(gram))
    return out


@dataclass
class PhraseStat:
    """Calls with the phrase per outcome, ``lift`` (log-odds ratio, > 0: goes with won) and z."""

    phrase: str
    won: int
    lost: int
    follow_up: int
    lift: float
    z: float

    def to_json(self) -> dict[str, str | int | float]:
        return {
            "phrase": self.phrase,
            "won": self.won,
            "lost": self.lost,
            "follow_up": self.follow_up,
            "lift": round(self.lift, 3),
            "z": round(self.z, 3),
        }


def outcome_counts(outcomes: list[str | None]) -> dict[str, int]:
    """Calls per outcome (won, lost, follow_up); None and unknown outcomes are not counted."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for outcome in outcomes:
        if outcome in counts:
            counts[outcome] += 1
    return counts


def _score(y_won: int, n_won: int, y_lost: int, n_lost: int, rate: float) -> tuple[float, float]:
    """Smoothed log-odds ratio of won vs lost, and its z; ``rate`` is the prior's mean."""
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
    """Phrases by how strongly they go with won rather than lost calls.

    ``calls`` are ``(outcome, terms)`` (outcomes other than won, lost and follow_up are ignored);
    phrases in fewer than ``min_calls`` won or lost calls are left out.  Sorted by z, won-leaning
    first (equal z: in more calls first, then by phrase); when more than ``2 * limit`` remain,
    the ``limit`` most won-leaning and the ``limit`` most lost-leaning.  Nothing when there are
    no won or no lost calls: there is nothing to compare."""
    totals = outcome_counts([o for o, _ in calls])
    n_won, n_lost, n_all = totals["won"], totals["lost"], sum(totals.values())
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
        rate = (c["won"] + c["lost"] + c["follow_up"]) / n_all
        lift, z = _score(c["won"], n_won, c["lost"], n_lost, rate)
        stats.append(PhraseStat(phrase, c["won"], c["lost"], c["follow_up"], lift, z))
    stats.sort(key=lambda s: (-s.z, -(s.won + s.lost), s.phrase))
    if len(stats) > 2 * limit:
        stats = stats[:limit] + stats[-limit:]
    return stats
