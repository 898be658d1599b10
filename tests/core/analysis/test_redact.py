"""Card data never reaches a transcript: every way a spoken card number gets written."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from salvesti.core.analysis.redact import REDACTED, luhn_ok, redact_lines, redact_text
from salvesti.core.analysis.words import Line, Word

CARD = "4111111111111111"


def line(text: str, start: float = 0.0, channel: str = "outside") -> Line:
    words = [Word(w, start + i * 0.3, start + i * 0.3 + 0.25) for i, w in enumerate(text.split())]
    return Line(channel, start, start + len(words) * 0.3, text, words)


def test_luhn():
    assert luhn_ok(CARD) and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112") and not luhn_ok("12a")


def test_card_numbers_in_every_written_form_are_redacted():
    for text in (
        "my card is 4111 1111 1111 1111 thanks",
        "my card is 4111-1111-1111-1111.",
        "number 4111111111111111, yes",
        "it is 4,111 1,111 1,111 1,111",
        "neli üks üks üks üks üks üks üks üks üks üks üks üks üks üks üks",
        "four one one one one one one one one one one one one one one one",
    ):
        out, runs = redact_text(text)
        assert runs == 1, text
        assert REDACTED in out and "4111" not in out and "neli" not in out and "four" not in out, out


def test_a_number_split_over_two_lines_is_caught():
    lines = [line("the card is 4111 1111", 0.0), line("1111 1111 okay", 5.0)]
    out, runs = redact_lines(lines)
    assert runs == 1
    assert all("1111" not in x.text for x in out)
    assert out[0].text.endswith(REDACTED) and out[1].text.startswith(REDACTED)
    assert out[1].words[-1].text == "okay"


def test_numbers_that_are_not_cards_stay():
    for text in ("order 4111 1111 1111 1112 please", "call +372 5551 2345", "we have 3 cakes for 25 euros"):
        out, runs = redact_text(text)
        assert runs == 0 and out == text, text


def test_codes_next_to_card_words_are_redacted():
    for text in ("and the CVV is 123", "turvakood on 456", "kaardi kehtivusaeg 12/27"):
        out, runs = redact_text(text)
        assert runs == 1 and not re.search(r"\d", out), out
    assert redact_text("the room is 123")[1] == 0
    # Speech to text miscounts digits; a long run beside "card" is card data even without Luhn.
    out, runs = redact_text("my card number in 4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1")
    assert runs == 1 and "4-1" not in out


@given(st.text(alphabet="0123456789 -.,abc", max_size=80))
def test_redacted_text_never_keeps_a_card_number(text):
    out, _ = redact_text(text)
    # No run of whole number-words left in the output makes a Luhn-valid 13-19 digit number.
    _, again = redact_text(out)
    assert again == 0, out
