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


# -- more forms, the word stream, and what stays ------------------------------------------------

NON_LUHN_ID = "1234567812345678"


def spoken(digits: str, words: dict[str, str]) -> str:
    return " ".join(words[d] for d in digits)


ET = dict(zip("0123456789", "null üks kaks kolm neli viis kuus seitse kaheksa üheksa".split(), strict=True))
EN = dict(zip("0123456789", "zero one two three four five six seven eight nine".split(), strict=True))


def test_more_written_forms_are_redacted():
    for text in (
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "my card is 4111111111111111 and it expires soon",
        "it is 4111 - 1111 - 1111 - 1111 okay",  # speech to text puts the dashes apart
        "nr.4111111111111111",  # glued to letters
        "4111.1111.1111.1111.",
        "four double one " + "one " * 13,  # "double one" is 11
        spoken("5555555555554444", ET),
        spoken("378282246310005", EN),  # 15 digits (Amex)
        "oh four one one one one one one one one one one one one one one one",  # "oh" is a 0
    ):
        out, runs = redact_text(text)
        assert runs == 1, text
        assert not re.search(r"\d{2}", out) and "üks" not in out, out


def test_two_cards_are_two_runs():
    out, runs = redact_text("first 4111 1111 1111 1111 then 5555 5555 5555 4444 done")
    assert runs == 2 and out == f"first {REDACTED} then {REDACTED} done"


def test_spoken_estonian_card_split_over_two_lines_with_times():
    digits = spoken("4111111111111111", ET).split()
    lines = [
        line("kaardi number on " + " ".join(digits[:9]), 0.0),
        line(" ".join(digits[9:]) + " aitäh", 8.0),
    ]
    out, runs = redact_lines(lines)
    assert runs == 1
    assert out[0].text == f"kaardi number on {REDACTED}" and out[1].text == f"{REDACTED} aitäh"
    chip = out[0].words[-1]
    assert chip.text == REDACTED
    assert (chip.start_s, chip.end_s) == (lines[0].words[3].start_s, lines[0].words[-1].end_s)
    assert [w.text for w in out[1].words] == [REDACTED, "aitäh"]


def test_lines_come_back_in_the_given_order_and_are_read_in_time_order():
    late, early = line("1111 1111 ok", 5.0), line("card 4111 1111", 0.0)
    out, runs = redact_lines([late, early])
    assert runs == 1 and out[0].text == f"{REDACTED} ok" and out[1].text == f"card {REDACTED}"


def test_each_party_is_its_own_stream():
    lines = [line("4111 1111", 0.0, "outside"), line("1111 1111", 2.0, "agent")]
    out, runs = redact_lines(lines)
    assert runs == 0 and out == lines


def test_a_line_without_word_times_is_redacted_by_its_text():
    bare = Line("outside", 0.0, 4.0, "number 4111 1111 1111 1111 thanks", [])
    (out,), runs = redact_lines([bare])
    assert runs == 1 and out.text == f"number {REDACTED} thanks" and out.words == []


def test_untouched_lines_and_text_are_returned_as_they_were():
    text = "  Tere,   kuidas  saan aidata?  "
    assert redact_text(text) == (text, 0)
    original = line("nothing to see here", 0.0)
    out, runs = redact_lines([original])
    assert runs == 0 and out[0] is original
    assert redact_lines([]) == ([], 0)


def test_long_numbers_that_are_not_cards_stay():
    assert not luhn_ok(NON_LUHN_ID)
    for text in (
        f"your order id is {NON_LUHN_ID}",
        "call +372 5551 2345",
        "helista 5551 2345 või +372 600 0000",
        "we have 3 cakes for 25 euros",
        "the room is 123",
        "the price is 1500",
    ):
        assert redact_text(text) == (text, 0), text


def test_groups_are_windows_not_every_digit():
    """A long id whose whole groups fail Luhn stays, although a stretch inside it passes:
    nearly every long number has one (redacting them all would empty order ids and IBANs)."""
    groups = ["3867", "4969", "1690", "6489", "61"]
    joined = "".join(groups)
    inner = [joined[a : a + n] for n in range(13, 20) for a in range(len(joined) - n + 1)]
    assert any(luhn_ok(x) for x in inner)
    whole = ["".join(groups[a:b]) for a in range(len(groups)) for b in range(a + 1, len(groups) + 1)]
    assert not any(13 <= len(x) <= 19 and luhn_ok(x) for x in whole)
    text = "order " + " ".join(groups)
    assert redact_text(text) == (text, 0)


def test_security_codes_near_card_words():
    for text, want in (
        ("CVV is 123", f"CVV is {REDACTED}"),
        ("turvakood on 456", f"turvakood on {REDACTED}"),
        ("CVV2 123", f"CVV2 {REDACTED}"),  # the keyword stays
        ("cvv:123", REDACTED),
        ("turvakoodiga 789 kinnitan", f"turvakoodiga {REDACTED} kinnitan"),
        ("the security code is 1234", f"the security code is {REDACTED}"),
        ("CVV is one two three", f"CVV is {REDACTED}"),
        ("123 is the code on the card", f"{REDACTED} is the code on the card"),
    ):
        assert redact_text(text) == (want, 1), text


def test_expiry_dates_near_expiry_words():
    for text in ("expires 12/2027", "kehtivusaeg 12 27", "aegub 12/27", "kaart aegub 05", "expiry 03 / 29"):
        out, runs = redact_text(text)
        assert runs == 1 and not re.search(r"\d", out), text
    assert redact_text("expires 13/2027") == ("expires 13/2027", 0)  # no month 13: not MM/YYYY
    assert redact_text("pakkumine kehtib 30 päeva") == ("pakkumine kehtib 30 päeva", 0)
    assert redact_text("kaart maksab 15 eurot") == ("kaart maksab 15 eurot", 0)  # 2 digits: a price


def test_near_means_within_eight_words():
    near = "cvv " + "x " * 7 + "123"
    far = "cvv " + "x " * 8 + "123"
    assert redact_text(near)[1] == 1 and redact_text(far) == (far, 0)


def test_luhn_handles_any_string():
    assert luhn_ok("0") and luhn_ok("18") and not luhn_ok("") and not luhn_ok("4111 1111")
    assert not luhn_ok("²" * 16)  # a digit, not a decimal
    assert luhn_ok("٤١١١١١١١١١١١١١١١")  # Arabic-Indic 4111111111111111
    assert redact_text("٤١١١١١١١١١١١١١١١")[1] == 1


def _check_digit(prefix: str) -> str:
    return next(d for d in "0123456789" if luhn_ok(prefix + d))


@st.composite
def _card_words(draw) -> list[str]:
    """A Luhn-valid card number, split into groups at random, maybe with separators."""
    prefix = draw(st.text(alphabet="0123456789", min_size=12, max_size=18))
    number = prefix + _check_digit(prefix)
    cuts = sorted(draw(st.sets(st.integers(1, len(number) - 1), max_size=6)))
    groups = [number[a:b] for a, b in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    joiner = draw(st.sampled_from([" ", " ", "-", " - ", ", "]))
    return joiner.join(groups).split()


_WORDS = st.sampled_from(
    ["tere", "card", "kaart", "the", "is", "and", "number", "cvv", "oh", "üks", "-", ","]
)
_TOKENS = st.one_of(_WORDS, st.from_regex(r"\d{1,5}", fullmatch=True), _card_words())


def _flat(items: list) -> str:
    return " ".join(x if isinstance(x, str) else " ".join(x) for x in items)


def _card_left_in(text: str) -> bool:
    """Independent of the code under test: stretches of pure number tokens (digits with
    separators) and single tokens; whole digit groups giving 13-19 digits that pass Luhn."""
    chains: list[list[str]] = [[]]
    for token in text.split():
        if re.fullmatch(r"[\d.,\-/]+", token):
            chains[-1] += re.findall(r"\d+", token)
        else:
            chains.append(re.findall(r"\d+", token))
            chains.append([])
    for groups in chains:
        for a in range(len(groups)):
            for b in range(a + 1, len(groups) + 1):
                joined = "".join(groups[a:b])
                if 13 <= len(joined) <= 19 and luhn_ok(joined):
                    return True
    return False


@given(st.lists(_TOKENS, max_size=25))
def test_no_card_number_survives_in_any_mix_of_words(items):
    text = _flat(items)
    out, runs = redact_text(text)
    assert not _card_left_in(out), out
    if any(not isinstance(x, str) for x in items):
        assert runs >= 1 and REDACTED in out


@given(st.text(max_size=200))
def test_redact_text_never_raises(text):
    out, runs = redact_text(text)
    assert isinstance(out, str) and runs >= 0 and (runs > 0 or out == text)
