"""Trackers and phrase statistics: what was said where, and what goes with won calls."""

from __future__ import annotations

from salvesti.core.analysis.phrases import call_terms, outcome_counts, rank_phrases
from salvesti.core.analysis.trackers import Tracker, spot
from salvesti.core.analysis.words import Line, Word


def line(text: str, start: float, channel: str) -> Line:
    words = [Word(w, start + i * 0.5, start + i * 0.5 + 0.4) for i, w in enumerate(text.split())]
    return Line(channel, start, start + len(words) * 0.5, text, words)


def test_trackers_match_phrases_and_prefixes_per_channel_with_times():
    lines = [
        line("See kõne salvestatakse. Hind on hea.", 1.0, "agent"),
        line("Is there a DISCOUNT, or free delivery?", 4.0, "outside"),
    ]
    trackers = [
        Tracker("price", ("hind", "discount")),
        Tracker("record", ("salvest*",)),
        Tracker("delivery", ("free delivery",)),
    ]
    hits = [(h.id, h.phrase, h.channel, h.at_s) for h in spot(lines, trackers)]
    assert hits == [
        ("record", "salvest*", "agent", 2.0),
        ("price", "hind", "agent", 2.5),
        ("price", "discount", "outside", 5.5),
        ("delivery", "free delivery", "outside", 6.5),
    ]
    assert spot(lines, [Tracker("none", ("free discount",))]) == []


def test_call_terms_drop_function_words_digits_and_redactions():
    terms = call_terms([line("The premium package has free delivery [redacted] 4111", 0, "agent")])
    assert {"premium", "premium package", "free delivery", "package"} <= terms
    assert "the" not in terms and "the premium" not in terms
    assert not any("4111" in t or "redacted" in t for t in terms)


def test_a_phrase_only_in_won_calls_ranks_above_one_only_in_lost_calls():
    calls = [
        ("won", {"free delivery", "hello there"}),
        ("won", {"free delivery", "hello there"}),
        ("won", {"free delivery", "hello there"}),
        ("lost", {"too expensive", "hello there"}),
        ("lost", {"too expensive", "hello there"}),
        ("lost", {"too expensive", "hello there"}),
        ("follow_up", {"call back"}),
    ]
    ranked = rank_phrases(calls, min_calls=2)
    names = [s.phrase for s in ranked]
    assert names == ["free delivery", "hello there", "too expensive"]
    won, common, lost = ranked
    assert (won.won, won.lost, lost.won, lost.lost) == (3, 0, 0, 3)
    assert won.lift > 0 > lost.lift and abs(common.lift) < 1e-9
    assert won.z > 0 > lost.z
    assert rank_phrases(calls, min_calls=4) == [s for s in ranked if s.won + s.lost >= 4]


def test_few_calls_score_weaker_than_many():
    few = rank_phrases([("won", {"x"}), ("won", {"x"}), ("lost", set()), ("lost", set())], min_calls=1)
    many = rank_phrases([("won", {"x"})] * 20 + [("lost", set())] * 20, min_calls=1)
    assert many[0].z > few[0].z > 0


def test_outcome_counts():
    assert outcome_counts(["won", "lost", None, "won", "other"]) == {"won": 2, "lost": 1, "follow_up": 0}
