"""The engine itself: it reports a crash as a crash and a hang as a hang, and replays."""

from __future__ import annotations

import pytest

from salvesti.testing.fuzz import Mutator, Target, run_target


def _picky(data: bytes) -> None:
    if data.startswith(b"\x00"):
        raise KeyError("a bug")
    if data.startswith(b"\x01"):
        while True:  # an input that never finishes
            pass
    if not data:
        raise ValueError("the documented error")  # a check lets nothing escape but bugs


@pytest.mark.timeout(20)
def test_crash_and_hang_are_counted_and_the_run_goes_on() -> None:
    target = Target("picky", [b"ok", b"\x00crash", b"\x01hang", b""], _picky)
    report = run_target(target, 4, deadline_s=0.2)
    assert report.inputs == 4
    assert [(f.index, f.data) for f in report.hangs] == [(2, b"\x01hang")]
    assert [(f.index, f.error.split(" at ")[0]) for f in report.crashes] == [
        (1, "KeyError: 'a bug'"),
        (3, "ValueError: the documented error"),
    ]
    assert "crashes 2 hangs 1" in report.line()


def test_mutations_replay_from_the_seed() -> None:
    a, b = Mutator([b"abc", b"hello world"], seed=7), Mutator([b"abc", b"hello world"], seed=7)
    assert [a.next() for _ in range(200)] == [b.next() for _ in range(200)]
    assert [a.next() for _ in range(50)] != [
        Mutator([b"abc", b"hello world"], seed=8).next() for _ in range(50)
    ]


def test_a_target_needs_seeds() -> None:
    with pytest.raises(ValueError, match="at least one seed"):
        Mutator([])
