"""Golden logs of real (documented) modem sessions, replayed whole and byte by byte."""

from __future__ import annotations

import pytest
from at_golden import GOLDEN_DIR, join_voice, load_golden, replay

GOLDEN = sorted(GOLDEN_DIR.glob("*.log"))


def test_there_are_golden_logs():
    assert len(GOLDEN) >= 8


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_whole(path):
    steps, expected = load_golden(path)
    assert replay(steps) == expected


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_golden_split(path, chunk):
    """Serial reads end anywhere: a line, a DLE pair or CR LF split across reads must give
    exactly the same events (voice data may come in more pieces, so it is joined)."""
    steps, expected = load_golden(path)
    assert join_voice(replay(steps, chunk)) == join_voice(expected)
