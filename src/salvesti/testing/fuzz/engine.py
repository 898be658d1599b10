"""The fuzz engine: seeded mutation of real messages, a per-input deadline, and a report.

Why our own loop and not hypothesis alone: hypothesis runs a few thousand examples a second,
which makes a million-input nightly run take hours; a plain mutator over the captured
messages runs tens of thousands a second, and stays deterministic (a seed) so a crash found
at night replays by its seed and index. The suite still uses hypothesis for shrinking.
"""

from __future__ import annotations

import random
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

#: Bytes that delimit things in SIP, SDP and AT text: where parsers go wrong.
SPECIALS = b':;,<>"\\ \t\r\n@[]=/?%+-0123456789zZ\x00\x10\x7f\x80\xff'
#: Values that sit on integer edges when they land in a length or number field.
#: Also digits that str.isdigit() accepts and int() refuses (superscript one) or reads (Arabic-Indic
#: three), and a lone surrogate.
EDGES = [
    b"0",
    b"-1",
    b"4294967296",
    b"65536",
    b"99999999999999999999",
    b"",
    b"\xc3",
    b"\xed\xa0\x80",
    "\u00b9".encode(),
    "\u0663".encode(),
]


class Hang(Exception):
    """Raised inside a target by the deadline alarm: this input took too long."""


@dataclass(frozen=True)
class Target:
    """One thing to fuzz: its seeds (real messages) and a check that raises only on a bug.

    ``check`` swallows the parser's documented error type itself; anything it lets escape
    (including an AssertionError from a round-trip oracle) is a crash.
    """

    name: str
    seeds: Sequence[bytes]
    check: Callable[[bytes], None]
    #: Tokens the mutator splices in (header names, AT result codes...).
    tokens: Sequence[bytes] = ()


@dataclass(frozen=True)
class Finding:
    """A crash or a hang, with what it takes to replay it."""

    kind: str  # "crash" or "hang"
    index: int
    data: bytes
    error: str


@dataclass
class Report:
    target: str
    inputs: int = 0
    seconds: float = 0.0
    crashes: list[Finding] = field(default_factory=list)
    hangs: list[Finding] = field(default_factory=list)
    slowest_ms: float = 0.0

    @property
    def rate(self) -> float:
        return self.inputs / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"{self.target:<6} {self.inputs:>9} inputs {self.seconds:7.1f} s {self.rate:9.0f}/s "
            f"crashes {len(self.crashes)} hangs {len(self.hangs)} slowest {self.slowest_ms:.1f} ms"
        )


class Mutator:
    """Deterministic mutations of seeds: byte edits, token splices, crossovers, truncation."""

    def __init__(self, seeds: Sequence[bytes], tokens: Sequence[bytes] = (), seed: int = 0) -> None:
        if not seeds:
            raise ValueError("a fuzz target needs at least one seed input")
        self.seeds = list(seeds)
        self.tokens = [*tokens, *EDGES]
        self.rng = random.Random(seed)

    def next(self) -> bytes:
        rng = self.rng
        data = bytearray(rng.choice(self.seeds))
        for _ in range(rng.choice((1, 1, 2, 3, 4, 8))):
            pos = rng.randint(0, len(data))
            op = rng.randrange(8)
            if op == 0 and pos < len(data):
                data[pos] = rng.choice(SPECIALS)
            elif op == 1:
                data.insert(pos, rng.choice(SPECIALS))
            elif op == 2 and pos < len(data):
                del data[pos : pos + rng.randint(1, 16)]
            elif op == 3:
                data[pos:pos] = rng.choice(self.tokens)
            elif op == 4 and pos < len(data):
                data[pos] = rng.randrange(256)
            elif op == 5:
                other = rng.choice(self.seeds)
                cut = rng.randint(0, len(other))
                data[pos:] = other[cut:]
            elif op == 6 and len(data) > 1:
                end = rng.randint(pos, min(len(data), pos + 64))
                data[pos:pos] = data[pos:end] * rng.randint(2, 40)
            elif op == 7:
                del data[pos:]
        return bytes(data)


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


def run_target(target: Target, inputs: int, *, seed: int = 0, deadline_s: float = 1.0) -> Report:
    """Run ``inputs`` mutated inputs through ``target.check`` in this (main) thread.

    The deadline is a real-time interval timer re-armed per input: an input that loops is
    interrupted and counted as a hang instead of stalling the run. Seeds run first, as-is.
    """
    mutator = Mutator(target.seeds, target.tokens, seed)
    report = Report(target.name)
    previous = signal.signal(signal.SIGALRM, _alarm)
    started = time.perf_counter()
    try:
        for index in range(inputs):
            report.inputs = index + 1
            data = target.seeds[index] if index < len(target.seeds) else mutator.next()
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, deadline_s)
            try:
                target.check(data)
            except Hang:
                report.hangs.append(Finding("hang", index, data, f"over {deadline_s} s"))
            except Exception as exc:  # any escape is the finding
                where = traceback.extract_tb(exc.__traceback__)[-1]
                error = f"{type(exc).__name__}: {exc} at {where.filename}:{where.lineno}"
                report.crashes.append(Finding("crash", index, data, error))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = (time.perf_counter() - t0) * 1000
            report.slowest_ms = max(report.slowest_ms, elapsed)
            if elapsed > deadline_s * 1000 and not (report.hangs and report.hangs[-1].index == index):
                report.hangs.append(Finding("hang", index, data, f"{elapsed:.0f} ms"))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        report.seconds = time.perf_counter() - started
    return report
