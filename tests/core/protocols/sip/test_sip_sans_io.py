"""The protocol packages stay sans-IO: no sockets, event loop, threads or serial ports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import salvesti.core.protocols.sdp as sdp_pkg
import salvesti.core.protocols.sip as sip_pkg

FORBIDDEN = {"asyncio", "socket", "threading", "serial", "aiortc", "selectors", "time"}
MODULES = sorted([*Path(sip_pkg.__file__).parent.glob("*.py"), *Path(sdp_pkg.__file__).parent.glob("*.py")])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_io_imports(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    # Not even the clock: time comes in as ``now`` so tests can drive it.
    assert imported.isdisjoint(FORBIDDEN), imported & FORBIDDEN


def test_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in MODULES}
    assert max(sizes.values()) < 600, sizes
