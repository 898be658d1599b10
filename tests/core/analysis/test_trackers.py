"""Trackers: configured phrases found per line and party, with the time of the first word."""

from __future__ import annotations

from salvesti.core.analysis.trackers import Hit, Tracker, spot
from salvesti.core.analysis.words import Line, Word, normalize, tokens


def line(text: str, start: float, channel: str = "agent") -> Line:
    """Words 0.5 s apart from ``start``."""
    words = [Word(w, start + i * 0.5, start + i * 0.5 + 0.4) for i, w in enumerate(text.split())]
    return Line(channel, start, start + len(words) * 0.5, text, words)


def found(lines: list[Line], *trackers: Tracker) -> list[tuple[str, str, str, float]]:
    return [(h.id, h.phrase, h.channel, h.at_s) for h in spot(lines, list(trackers))]


def test_normalize_and_tokens():
    assert normalize("Hind,") == "hind" and normalize("«Õige!»") == "õige" and normalize("ŠOKK") == "šokk"
    assert (
        normalize("4111-1111.") == "4111-1111" and normalize("e-post") == "e-post" and normalize("...") == ""
    )
    assert tokens("Tere!  Kuidas  läheb? - Hästi.") == ["tere", "kuidas", "läheb", "hästi"]


def test_case_punctuation_and_multiword_phrases():
    lines = [line("Meie HIND on soodne. Tasuta Kohaletoimetamine!", 10.0)]
    hits = found(lines, Tracker("price", ("hind",)), Tracker("free", ("tasuta kohaletoimetamine",)))
    assert hits == [("price", "hind", "agent", 10.5), ("free", "tasuta kohaletoimetamine", "agent", 12.0)]


def test_a_star_word_is_a_prefix_anywhere_in_a_phrase():
    lines = [line("See kõne salvestatakse kvaliteedi jaoks", 0.0), line("Kõnesid salvestame alati", 5.0)]
    assert found(lines, Tracker("rec", ("Salvest*",))) == [
        ("rec", "Salvest*", "agent", 1.0),
        ("rec", "Salvest*", "agent", 5.5),
    ]
    assert found(lines, Tracker("rec", ("kõne* salvest*",))) == [
        ("rec", "kõne* salvest*", "agent", 0.5),
        ("rec", "kõne* salvest*", "agent", 5.0),
    ]
    assert found(lines, Tracker("x", ("salvest",))) == []  # without the star: the whole word


def test_every_occurrence_sorted_by_time_with_the_channel():
    lines = [line("price please", 3.0, "outside"), line("the price is the price", 1.0, "agent")]
    assert found(lines, Tracker("price", ("price",))) == [
        ("price", "price", "agent", 1.5),
        ("price", "price", "agent", 3.0),
        ("price", "price", "outside", 3.0),
    ]


def test_phrases_do_not_span_lines():
    lines = [line("free", 0.0), line("delivery", 1.0)]
    assert found(lines, Tracker("d", ("free delivery",))) == []


def test_one_hit_per_tracker_and_place():
    lines = [line("salvestatakse", 2.0)]
    hits = found(lines, Tracker("rec", ("salvest*", "salvestatakse")), Tracker("other", ("salvestatakse",)))
    assert hits == [("other", "salvestatakse", "agent", 2.0), ("rec", "salvest*", "agent", 2.0)]


def test_a_lone_dash_is_not_a_word_and_an_empty_phrase_never_matches():
    lines = [line("free - delivery", 0.0)]
    assert found(lines, Tracker("d", ("free delivery",))) == [("d", "free delivery", "agent", 0.0)]
    assert found(lines, Tracker("e", ("", "...", "*"))) == []
    assert spot(lines, []) == [] and spot([], [Tracker("x", ("x",))]) == []


def test_a_line_without_word_times_hits_at_its_start():
    bare = Line("outside", 7.5, 9.0, "Is there a DISCOUNT?", [])
    assert found([bare], Tracker("price", ("discount",))) == [("price", "discount", "outside", 7.5)]


def test_hit_to_json():
    assert Hit("price", "hind", "agent", 1.23456).to_json() == {
        "id": "price",
        "phrase": "hind",
        "channel": "agent",
        "at_s": 1.23,
    }
