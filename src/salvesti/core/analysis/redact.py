"""Card data never stored (PCI DSS 3.3.1): find card numbers and codes in what was said.

A transcript writes a spoken card number many ways: "4111 1111 1111 1111", "4111-1111-...",
"4,111", "nr.4111", digit words ("four one one one", "double one", "neli üks üks üks"), with
a lone "-" between groups, or split over two lines.  The words of one party are read as one
stream of *digit groups*: the digits of a number-like word, split at its inner separators, or
one digit word.  A run is a stretch of groups with nothing but separators between them (a word
with letters ends it).  A run is replaced whole when:

* consecutive whole groups give 13-19 digits passing the Luhn check (a card number);
* it is within :data:`NEAR_WORDS` words of a card keyword (cvv, kaart, turvakood, expiry ...)
  and has 3-4 digits (a CVV, an expiry "12/27") or 12 and more (speech to text miscounts
  spoken digits, and a misheard card number is still card data);
* it is next to an expiry keyword and has 2 digits (a month) or 6 digits starting with a month
  (MM/YYYY).

Windows inside one group are not checked: most long numbers (an IBAN, an order id) contain some
Luhn-valid stretch, and a card number is said in groups or digit by digit, never glued to other
digits.  Over-redacting a long number whose groups happen to pass Luhn is the right error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from salvesti.core.analysis.words import Line, Word, normalize

REDACTED = "[redacted]"
NEAR_WORDS = 8
CARD_DIGITS = (13, 19)

DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "null": "0", "üks": "1", "kaks": "2", "kolm": "3", "neli": "4", "viis": "5", "kuus": "6",
    "seitse": "7", "kaheksa": "8", "üheksa": "9",
}  # fmt: skip
REPEATS = {"double": 2, "triple": 3}
#: Card keywords, exact (normalised) ...
KEYWORDS = frozenset(
    {"cvv", "cvc", "cvv2", "cvc2", "cvn", "card", "cards", "kaart", "security", "turvakood", "pin"}
)
#: ... and as prefixes, for Estonian cases (kaardi, kaardinumbrit, turvakoodiga, kehtivusaja).
KEYWORD_PREFIXES = ("kaardi", "turvakood", "kehtivus", "expir", "aegu")
EXPIRY_KEYWORDS = frozenset({"expiry", "exp", "expires", "expiration", "aegub"})
EXPIRY_PREFIXES = ("kehtivus", "expir", "aegu")

_GROUPS = re.compile(r"\d+(?:[.,\-/]\d+)*")
_DIGITS = re.compile(r"\d+")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of decimal digits (False for anything else)."""
    if not digits or not digits.isdecimal():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_keyword(token: str) -> bool:
    return token in KEYWORDS or token in EXPIRY_KEYWORDS or token.startswith(KEYWORD_PREFIXES)


def _is_expiry(token: str) -> bool:
    return token in EXPIRY_KEYWORDS or token.startswith(EXPIRY_PREFIXES)


@dataclass
class _Item:
    """One piece of the stream: ``digits`` for a digit group, else a separator (``sep``) or a
    word that ends a run."""

    word: int
    digits: str = ""
    sep: bool = False


def _ascii(digits: str) -> str:
    return "".join(str(int(ch)) for ch in digits)


def _items(texts: Sequence[str]) -> tuple[list[_Item], list[int], list[int]]:
    """The stream of a party's words, and the word indices of card and expiry keywords."""
    items: list[_Item] = []
    keywords: list[int] = []
    expiry: list[int] = []
    norms = [normalize(t) for t in texts]
    repeat = 1
    for i, token in enumerate(norms):
        if not token:  # bare punctuation ("-", ","): a separator
            items.append(_Item(i, sep=True))
            continue
        if token in REPEATS and i + 1 < len(norms) and _single_digit(norms[i + 1]):
            repeat = REPEATS[token]
            items.append(_Item(i, sep=True))
            continue
        if _is_keyword(token):  # whole: "cvv2" is a keyword, not "cvv" and a 2
            items.append(_Item(i))
            keywords.append(i)
            if _is_expiry(token):
                expiry.append(i)
            continue
        if token in DIGIT_WORDS:
            items.append(_Item(i, DIGIT_WORDS[token] * repeat))
            repeat = 1
            continue
        repeat_here, repeat = repeat, 1
        pos = 0
        for match in _GROUPS.finditer(token):
            _other(token[pos : match.start()], i, items, keywords, expiry)
            groups = [_ascii(g) for g in _DIGITS.findall(match.group())]
            if repeat_here > 1 and len(groups) == 1 and len(groups[0]) == 1:
                groups = [groups[0] * repeat_here]
            items += [_Item(i, g) for g in groups]
            pos = match.end()
        _other(token[pos:], i, items, keywords, expiry)
    return items, keywords, expiry


def _single_digit(token: str) -> bool:
    return token in DIGIT_WORDS or (len(token) == 1 and token.isdecimal())


def _other(piece: str, word: int, items: list[_Item], keywords: list[int], expiry: list[int]) -> None:
    """A part of a word that is not digits: nothing, separators, or letters (a run ends)."""
    if not piece:
        return
    bare = normalize(piece)
    if not bare:
        items.append(_Item(word, sep=True))
        return
    items.append(_Item(word))
    if _is_keyword(bare):
        keywords.append(word)
        if _is_expiry(bare):
            expiry.append(word)


def _card_in(groups: list[str]) -> bool:
    """Consecutive whole groups giving 13-19 digits that pass Luhn."""
    low, high = CARD_DIGITS
    for a in range(len(groups)):
        total = ""
        for b in range(a, len(groups)):
            total += groups[b]
            if len(total) > high:
                break
            if len(total) >= low and luhn_ok(total):
                return True
    return False


def _near(marks: list[int], first: int, last: int) -> bool:
    return any(first - NEAR_WORDS <= k <= last + NEAR_WORDS for k in marks)


def _is_card_data(groups: list[str], near_card: bool, near_expiry: bool) -> bool:
    joined = "".join(groups)
    if _card_in(groups):
        return True
    if near_card and (3 <= len(joined) <= 4 or len(joined) >= 12):
        return True
    return near_expiry and (len(joined) == 2 or (len(joined) == 6 and 1 <= int(joined[:2]) <= 12))


def _redact_words(texts: Sequence[str]) -> tuple[list[bool], int]:
    """Which words to redact, and how many runs were redacted."""
    items, keywords, expiry = _items(texts)
    marks = [False] * len(texts)
    runs = 0
    i = 0
    while i < len(items):
        if not items[i].digits:
            i += 1
            continue
        j = i  # the run: digit groups with only separators between them
        while j < len(items) and (items[j].digits or items[j].sep):
            j += 1
        while not items[j - 1].digits:  # separators after the last group are not part of it
            j -= 1
        run = items[i:j]
        first, last = run[0].word, run[-1].word
        groups = [x.digits for x in run if x.digits]
        if _is_card_data(groups, _near(keywords, first, last), _near(expiry, first, last)):
            for x in run:
                marks[x.word] = True
            runs += 1
        i = j
    return marks, runs


def _rebuild(words: list[Word], marks: list[bool]) -> list[Word]:
    """Words with each stretch of redacted ones replaced by one REDACTED word spanning it."""
    out: list[Word] = []
    previous = False
    for word, marked in zip(words, marks, strict=True):
        if not marked:
            out.append(word)
        elif previous:
            out[-1] = Word(REDACTED, out[-1].start_s, word.end_s)
        else:
            out.append(Word(REDACTED, word.start_s, word.end_s))
        previous = marked
    return out


def _line_words(line: Line) -> list[Word]:
    """The line's words; a line without word times counts its text's words at its own span."""
    if line.words:
        return line.words
    return [Word(t, line.start_s, line.end_s) for t in line.text.split()]


def redact_lines(lines: list[Line]) -> tuple[list[Line], int]:
    """Lines with card data replaced, and the number of runs redacted.  Each party's lines are
    read in time order as one word stream (a number split over two lines is caught); the lines
    come back in the order given, a changed line's text rebuilt from its words."""
    out = list(lines)
    total = 0
    for channel in dict.fromkeys(line.channel for line in lines):
        order = sorted(
            (n for n, x in enumerate(lines) if x.channel == channel), key=lambda n: lines[n].start_s
        )
        per_line = [_line_words(lines[n]) for n in order]
        marks, runs = _redact_words([w.text for words in per_line for w in words])
        total += runs
        if not runs:
            continue
        at = 0
        for n, words in zip(order, per_line, strict=True):
            own, at = marks[at : at + len(words)], at + len(words)
            if any(own):
                new = _rebuild(words, own)
                text = " ".join(w.text for w in new)
                out[n] = replace(lines[n], text=text, words=new if lines[n].words else [])
    return out, total


def redact_text(text: str) -> tuple[str, int]:
    """The same rules on free text (no word times): the text with card data replaced, and the
    number of runs redacted.  Text without card data comes back unchanged."""
    words = text.split()
    marks, runs = _redact_words(words)
    if not runs:
        return text, 0
    rebuilt = _rebuild([Word(t, 0.0, 0.0) for t in words], marks)
    return " ".join(w.text for w in rebuilt), runs
