"""The pause code on the keypad, decided digit by digit without any sockets."""

from __future__ import annotations

import pytest

from salvesti.core.protocols.rtp.keypad import Forward, KeypadCode, Matched, Release, Withhold


def feed(code: KeypadCode, digits: str) -> list[object]:
    return [code.feed(d) for d in digits]


def test_the_code_is_swallowed_and_other_digits_pass() -> None:
    k = KeypadCode("*7")
    assert feed(k, "12") == [Forward(), Forward()]
    assert feed(k, "*7") == [Withhold(), Matched()]
    assert feed(k, "3") == [Forward()]


def test_a_false_start_is_released_in_order() -> None:
    k = KeypadCode("*7")
    assert feed(k, "*5") == [Withhold(), Release("*5")]
    assert feed(k, "**7") == [Withhold(), Release("*"), Matched()]  # a second * starts again


def test_a_withheld_prefix_expires() -> None:
    k = KeypadCode("#99")
    assert feed(k, "#9") == [Withhold(), Withhold()]
    assert k.expire() == Release("#9")
    assert k.pending == ""


@pytest.mark.parametrize("bad", ["", "123456789", "*x"])
def test_bad_codes_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        KeypadCode(bad)
