"""Card data never stored (PCI DSS 3.3.1): find card numbers and codes in what was said.

A transcript writes a spoken card number many ways: "4111 1111 1111 1111", "4111-1111-...",
"4,111", digit words ("four one one one", "neli üks üks üks"), or split over two lines.  The
words of one party are read as one stream; a run of number-like words in which consecutive whole
words give 13-19 digits passing the Luhn check is replaced whole, and so is a short run (2-4
digits: a CVV, an expiry) within a few words of a card keyword.  Windows inside a word are not
checked: most long numbers contain some Luhn-valid stretch.  Over-redacting a long number made
of digit words that happens to pass Luhn is the right error to make; so is redacting any long
run (12+ digits) next to a card keyword, since speech to text often miscounts spoken digits and
a misheard card number is still card data.
"""

from __future__ import annotations

import re
from dataclasses import replace

from salvesti.core.analysis.words import Line, Word, normalize

REDACTED = "[redacted]"

DIGIT_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "null": "0", "üks": "1", "kaks": "2", "kolm": "3", "neli": "4", "viis": "5", "kuus": "6",
    "seitse": "7", "kaheksa": "8", "üheksa": "9",
}  # fmt: skip
KEYWORDS = (
    "cvv", "cvc", "cvv2", "cvc2", "turvakood", "turvakoodi", "turvakoodiks", "kaart", "kaardi",
    "kaardinumber", "kaardinumbri", "card", "security", "kehtivusaeg", "kehtivus", "kehtib", "expiry",
    "expires", "aegub",
)  # fmt: skip
NEAR_WORDS = 8
_NUMERIC = re.compile(r"^\d[\d.,\-/]*$")


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _digits_of(word: str) -> str | None:
    token = normalize(word)
    if token in DIGIT_WORDS:
        return DIGIT_WORDS[token]
    if token and _NUMERIC.match(token):
        return re.sub(r"\D", "", token)
    return None


def _card_in(run: list[str]) -> bool:
    """A card number made of whole words of the run: each contiguous stretch of words whose
    digits add up to 13-19 is checked (windows inside a word would flag most long numbers)."""
    for a in range(len(run)):
        total = ""
        for b in range(a, len(run)):
            total += run[b]
            if len(total) > 19:
                break
            if len(total) >= 13 and luhn_ok(total):
                return True
    return False


def _redact_words(words: list[Word]) -> tuple[list[bool], int]:
    """Which words to redact, and how many runs were redacted."""
    marks = [False] * len(words)
    digits = [_digits_of(w.text) for w in words]
    keyword_at = [i for i, w in enumerate(words) if normalize(w.text) in KEYWORDS]
    runs = 0
    i = 0
    while i < len(words):
        if digits[i] is None:
            i += 1
            continue
        j = i
        while j < len(words) and digits[j] is not None:
            j += 1
        run = [d or "" for d in digits[i:j]]
        joined = "".join(run)
        near = any(i - NEAR_WORDS <= k < j + NEAR_WORDS for k in keyword_at)
        if _card_in(run) or (near and (2 <= len(joined) <= 4 or len(joined) >= 12)):
            for k in range(i, j):
                marks[k] = True
            runs += 1
        i = j
    return marks, runs


def _rebuild(words: list[Word], marks: list[bool]) -> list[Word]:
    out: list[Word] = []
    for word, marked in zip(words, marks, strict=True):
        if not marked:
            out.append(word)
        elif out and out[-1].text == REDACTED:
            out[-1] = Word(REDACTED, out[-1].start_s, word.end_s)  # one chip for the whole run
        else:
            out.append(Word(REDACTED, word.start_s, word.end_s))
    return out


def redact_lines(lines: list[Line]) -> tuple[list[Line], int]:
    """One party's lines, in time order, with card data replaced; and the number of runs."""
    ordered = sorted(lines, key=lambda x: x.start_s)
    stream = [(n, w) for n, line in enumerate(ordered) for w in line.words]
    marks, runs = _redact_words([w for _, w in stream])
    if not runs:
        return ordered, 0
    per_line: dict[int, list[bool]] = {}
    for (n, _), mark in zip(stream, marks, strict=True):
        per_line.setdefault(n, []).append(mark)
    out = []
    for n, line in enumerate(ordered):
        line_marks = per_line.get(n, [])
        if any(line_marks):
            words = _rebuild(line.words, line_marks)
            out.append(replace(line, words=words, text=" ".join(w.text for w in words)))
        else:
            out.append(line)
    return out, runs


def redact_text(text: str) -> tuple[str, int]:
    """The same rules on free text (no word times)."""
    words = [Word(t, 0.0, 0.0) for t in text.split()]
    marks, runs = _redact_words(words)
    if not runs:
        return text, 0
    return " ".join(w.text for w in _rebuild(words, marks)), runs
