"""What goes with won calls: a call's phrases, and their smoothed log-odds of won vs lost."""

from __future__ import annotations

import math

import pytest

from salvesti.core.analysis.phrases import STOPWORDS, PhraseStat, call_terms, outcome_counts, rank_phrases
from salvesti.core.analysis.redact import REDACTED
from salvesti.core.analysis.words import Line, normalize


def lines(*texts: str) -> list[Line]:
    return [Line("agent", float(i), float(i) + 1, t, []) for i, t in enumerate(texts)]


def test_stopwords_are_a_few_hundred_normalised_function_words():
    assert 100 < len(STOPWORDS) <= 400
    assert {"ja", "on", "see", "kas", "the", "and", "is", "you"} <= STOPWORDS
    assert all(normalize(w) == w for w in STOPWORDS)
    assert not {"hind", "pakett", "premium", "price", "delivery"} & STOPWORDS


def test_unigrams_bigrams_and_trigrams_without_function_words_at_the_edges():
    terms = call_terms(lines("The premium package has free delivery."))
    assert {"premium", "package", "free", "delivery", "premium package", "free delivery"} <= terms
    assert "package has free" in terms  # a stopword inside an n-gram is fine
    assert not {"the", "has", "the premium", "package has", "has free"} & terms
    assert "premium package has free" not in terms  # 4 words: more than n_max


def test_case_punctuation_and_estonian_letters():
    terms = call_terms(lines("Äriklient saab TASUTA ruuteri, tõesti!"))
    assert {"äriklient", "tasuta ruuteri", "äriklient saab tasuta", "tõesti"} <= terms
    assert "saab" not in terms  # a stopword
    assert all(t == t.casefold() and "," not in t for t in terms)


def test_short_words_digits_and_redactions_are_dropped_and_break_ngrams():
    terms = call_terms(lines(f"uus tv kaart {REDACTED} sobib hästi", "hind 25 eurot kuus"))
    assert "tv" not in terms and "uus tv kaart" in terms  # a short unigram goes, its n-grams stay
    assert "kaart sobib" not in terms and not any("redacted" in t for t in terms)
    assert "hind eurot" not in terms and not any(ch.isdigit() for t in terms for ch in t)
    assert {"sobib hästi", "eurot kuus"} <= terms


def test_ngrams_stay_within_a_line_and_n_max_is_honoured():
    terms = call_terms(lines("free", "delivery"))
    assert terms == {"free", "delivery"}
    assert call_terms(lines("premium package deal"), n_max=1) == {"premium", "package", "deal"}
    assert call_terms([]) == set()


def test_outcome_counts():
    assert outcome_counts(["won", "lost", None, "won", "other", "follow_up"]) == {
        "won": 2,
        "lost": 1,
        "follow_up": 1,
    }
    assert outcome_counts([]) == {"won": 0, "lost": 0, "follow_up": 0}


def calls() -> list[tuple[str, set[str]]]:
    return [
        ("won", {"free delivery", "hello there"}),
        ("won", {"free delivery", "hello there", "call back"}),
        ("won", {"free delivery", "hello there"}),
        ("lost", {"too expensive", "hello there"}),
        ("lost", {"too expensive", "hello there", "call back"}),
        ("lost", {"too expensive", "hello there"}),
        ("follow_up", {"call back", "hello there"}),
        (None, {"free delivery"}),  # not tagged: ignored
    ]


def test_won_only_above_common_above_lost_only():
    ranked = rank_phrases(calls())
    # Equal scores: the phrase in more calls first, then by phrase.
    assert [s.phrase for s in ranked] == ["free delivery", "hello there", "call back", "too expensive"]
    won, common, back, lost = ranked
    assert (won.won, won.lost, won.follow_up) == (3, 0, 0)
    assert (back.won, back.lost, back.follow_up) == (1, 1, 1)
    assert (common.won, common.lost, common.follow_up) == (3, 3, 1)
    assert won.lift > 0 > lost.lift and won.z > 0 > lost.z
    assert won.lift == pytest.approx(-lost.lift) and won.z == pytest.approx(-lost.z)
    assert common.lift == pytest.approx(0.0, abs=1e-9) and back.lift == pytest.approx(0.0, abs=1e-9)


def test_a_phrase_in_every_call_of_unequal_groups_stays_near_zero():
    stats = {s.phrase: s for s in rank_phrases([("won", {"tere", "a"})] * 5 + [("lost", {"tere"})] * 10)}
    assert abs(stats["tere"].z) < 0.5
    assert stats["a"].z > 1.0


def test_the_prior_keeps_few_calls_weaker_than_many():
    few = rank_phrases([("won", {"x"})] * 2 + [("lost", set())] * 2, min_calls=1)
    many = rank_phrases([("won", {"x"})] * 20 + [("lost", set())] * 20, min_calls=1)
    assert many[0].z > few[0].z > 0 and many[0].lift > few[0].lift
    # Not infinite although x was never said in a lost call:
    assert math.isfinite(many[0].lift)


def test_min_calls_counts_won_and_lost_calls_only():
    ranked = rank_phrases(calls(), min_calls=3)
    assert [s.phrase for s in ranked] == ["free delivery", "hello there", "too expensive"]
    assert rank_phrases(calls(), min_calls=7) == []


def test_nothing_to_compare_without_both_outcomes():
    assert rank_phrases([("won", {"x"}), ("won", {"x"})]) == []
    assert rank_phrases([]) == []


def test_limit_keeps_both_ends_and_ties_sort_by_phrase():
    won = [("won", {f"w{i:02d}" for i in range(30)}) for _ in range(3)]
    lost = [("lost", {f"l{i:02d}" for i in range(30)}) for _ in range(3)]
    ranked = rank_phrases(won + lost, limit=5)
    assert [s.phrase for s in ranked] == [f"w{i:02d}" for i in range(5)] + [
        f"l{i:02d}" for i in range(25, 30)
    ]
    assert len(rank_phrases(won + lost, limit=30)) == 60


def test_phrase_stat_to_json():
    stat = PhraseStat("free delivery", 3, 0, 1, 1.234567, 2.345678)
    assert stat.to_json() == {
        "phrase": "free delivery",
        "won": 3,
        "lost": 0,
        "follow_up": 1,
        "lift": 1.235,
        "z": 2.346,
    }
