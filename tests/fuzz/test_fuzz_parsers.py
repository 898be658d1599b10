"""A short, bounded run of bench/fuzz.py's parser targets: what CI runs of the nightly hunt.

Fixed seeds, so a failure here replays exactly (the message names seed and index); the
nightly run (bench/fuzz.py, figures in docs/security.md) covers a million inputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.testing.fuzz import Target, run_target
from salvesti.testing.fuzz.corpus import at_seeds, rtp_seeds, sdp_seeds, sip_seeds
from salvesti.testing.fuzz.targets import parser_targets

TESTS = Path(__file__).resolve().parents[1]
TARGETS = parser_targets(sip_seeds(TESTS), sdp_seeds(TESTS), rtp_seeds(), at_seeds(TESTS))
#: Inputs per target: a few seconds each on a shared CI box.
SHORT = {"sip": 4000, "sip-tcp": 3000, "sdp": 6000, "rtp": 10000, "at": 2000}


def test_corpora_are_the_captured_messages() -> None:
    sizes = {t.name: len(t.seeds) for t in TARGETS}
    assert sizes["sip"] >= 20 and sizes["sdp"] >= 5 and sizes["at"] >= 5 and sizes["rtp"] >= 8


@pytest.mark.timeout(30)
@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_short_fuzz_run_finds_nothing(target: Target) -> None:
    report = run_target(target, SHORT[target.name], seed=13, deadline_s=1.0)
    assert report.inputs == SHORT[target.name]
    findings = [*report.crashes, *report.hangs]
    assert not findings, (
        f"seed 13, {findings[0].kind} at #{findings[0].index}: {findings[0].error}: {findings[0].data!r}"
    )
