"""Fixtures for the sip_trunk source tests (the lab itself is in sip_lab.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sip_lab import Lab, require


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    require("sipp")
    require("timeout")
    bench = Lab(tmp_path)
    try:
        yield bench
    finally:
        await bench.close()
