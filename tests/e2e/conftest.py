"""End-to-end fixtures: generated audio, a per-test Lab of peers, and logs on failure.

The harness lives in ``tests/e2e/harness`` (importable as ``harness`` because pytest puts
this folder on sys.path); the benchmark imports the same modules.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.audio import AudioSet, make_audio_set
from harness.lab import Lab
from harness.procs import require_tool

# The Chromium phone tests run only inside the network namespace test_e2e_browser_chromium makes.
collect_ignore = [] if os.environ.get("SALVESTI_NETNS") == "1" else ["netns"]


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioSet:
    """Speech for each party, a tone, the notice and G.711 pcaps, generated once per session."""
    return make_audio_set(tmp_path_factory.mktemp("audio"))


@pytest.fixture
def lab(tmp_path: Path, audio: AudioSet) -> Iterator[Lab]:
    for tool in ("sipp", "baresip", "sox", "espeak-ng", "timeout"):
        require_tool(tool)  # a missing tool fails the test, never skips it
    bench = Lab(tmp_path, audio)
    yield bench
    bench.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    bench = getattr(item, "funcargs", {}).get("lab")
    if report.failed and isinstance(bench, Lab):
        report.sections.append(("peer logs", bench.logs()))
