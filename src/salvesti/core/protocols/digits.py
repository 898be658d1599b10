"""ASCII digits: the only digits the wire protocols have.

``str.isdigit()`` is also True for '¹' (which ``int()`` refuses, so a ValueError escaped the
parsers: found by bench/fuzz.py) and for '٣' (which ``int()`` reads as 3, a number nobody
sent). SIP's DIGIT (RFC 3261 25.1), SDP's (RFC 8866 9) and AT text only ever mean 0-9.
"""


def is_digits(text: str) -> bool:
    """True when ``text`` is one or more of 0-9 and nothing else."""
    return text.isascii() and text.isdigit()
