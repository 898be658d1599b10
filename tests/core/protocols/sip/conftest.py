"""Shared fixtures for the SIP protocol tests: golden message files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.fixture
def golden() -> Callable[[str], bytes]:
    """Read one golden message by file name."""

    def read(name: str) -> bytes:
        return (GOLDEN_DIR / name).read_bytes()

    return read


def golden_names() -> list[str]:
    return sorted(p.name for p in GOLDEN_DIR.glob("*.sip"))
