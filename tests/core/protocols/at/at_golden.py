"""Golden AT logs: reading the ``golden/*.log`` format and replaying it (helpers for the tests here).

Format, one item per line (``#`` starts a comment):

- ``@ <seconds>``: the clock moves to that time and the commander's timer runs;
- ``> <command>``: the host sends a command (its bytes must come out of the commander);
- ``< <bytes>``: the modem sends these bytes (Python escapes: ``\\r\\n``, ``\\x10``);
- ``= <event>``: an event the replay must produce, written as a Python expression.

The same format is what :meth:`salvesti.testing.modem_sim.ModemSimulator.format_log`
writes, so a simulator session can be turned into a golden file.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import salvesti.core.protocols.at as at

GOLDEN_DIR = Path(__file__).parent / "golden"


@dataclass
class Step:
    op: str
    arg: str | bytes | float


def load_golden(path: Path) -> tuple[list[Step], list[at.Event]]:
    steps: list[Step] = []
    expected: list[at.Event] = []
    names = {n: getattr(at, n) for n in at.__all__}
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        op, _, rest = raw.partition(" ")
        if op == "@":
            steps.append(Step("@", float(rest)))
        elif op == ">":
            steps.append(Step(">", rest))
        elif op == "<":
            steps.append(Step("<", codecs.escape_decode(rest.encode("latin-1"))[0]))
        elif op == "=":
            expected.append(eval(rest, {"__builtins__": {}}, names))
        else:
            raise AssertionError(f"{path.name}: bad line {raw!r}")
    return steps, expected


def replay(steps: list[Step], chunk: int | None = None) -> list[at.Event]:
    """Run the steps through a fresh commander; ``chunk`` splits modem bytes into
    pieces of that size (1 = every byte on its own)."""
    cmdr = at.ATCommander()
    now = 0.0
    events: list[at.Event] = []
    for step in steps:
        if step.op == "@":
            now = float(step.arg)  # type: ignore[arg-type]
            events += cmdr.handle_timer(now)
        elif step.op == ">":
            cmdr.send(str(step.arg), 5.0, now)
            assert cmdr.data_to_send() == str(step.arg).encode() + b"\r"
        else:
            data: bytes = step.arg  # type: ignore[assignment]
            size = chunk or max(len(data), 1)
            for i in range(0, len(data), size):
                events += cmdr.feed(data[i : i + size], now)
    return events


def join_voice(events: list[at.Event]) -> list[at.Event]:
    """Merge neighbouring VoiceData events: how audio is cut into reads does not matter."""
    out: list[at.Event] = []
    for e in events:
        if isinstance(e, at.VoiceData) and out and isinstance(out[-1], at.VoiceData):
            out[-1] = at.VoiceData(out[-1].data + e.data)
        else:
            out.append(e)
    return out
