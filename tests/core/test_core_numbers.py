"""Numbers are stored in E.164 so that every way of writing one finds the same caller."""

import pytest

from salvesti.core.numbers import normalize_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5551234", "+3725551234"),
        ("+372 555 1234", "+3725551234"),
        ("003725551234", "+3725551234"),
        ("3725551234", "+3725551234"),
        ("+358401234567", "+358401234567"),
        ("101", "101"),
        ("alice", "alice"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_estonia(raw, expected) -> None:
    assert normalize_number(raw, "EE") == expected


def test_other_default_country() -> None:
    assert normalize_number("0401234567", "FI") == "+358401234567"
