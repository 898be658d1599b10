"""Screenshots of pages under test: into the test's folder, and $SALVESTI_SCREENSHOTS when set
(that is how docs/img gets its pictures)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any


def shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    out = os.environ.get("SALVESTI_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / f"{name}.png", Path(out) / f"{name}.png")
