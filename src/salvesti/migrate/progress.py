"""Where a migration got to, and showing it.

:class:`Marker` is ``<data_dir>/migrate-progress.json``: per phase, how many of the box's
items (in key order) are finished, for one target.  It is written atomically (a temporary
file, then ``os.replace``) after every few items, so a ``kill -9`` loses at most those few --
and they are found again by comparison, never written twice.  A marker for another target is
ignored: moving to a second cluster starts from the beginning.

:class:`Bar` is the progress display on stderr: one redrawn bar on a terminal, plain lines
(at most one per tenth of a phase) when stderr is a file or a pipe, so logs stay readable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO

NAME = "migrate-progress.json"


class Marker:
    """Finished items per phase for the target named ``target``."""

    def __init__(self, data_dir: Path, target: str, *, enabled: bool = True) -> None:
        self.path = data_dir / NAME
        self.target = target
        self.enabled = enabled
        self.done: dict[str, int] = {}
        if enabled and self.path.exists():
            try:
                saved = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                saved = {}
            if isinstance(saved, dict) and saved.get("target") == target:
                self.done = {str(k): int(v) for k, v in dict(saved.get("done") or {}).items()}

    def get(self, phase: str) -> int:
        return self.done.get(phase, 0)

    def set(self, phase: str, count: int) -> None:
        self.done[phase] = count
        if not self.enabled:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"target": self.target, "done": self.done}, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    def finish(self) -> None:
        """Everything is moved: the marker has nothing left to say."""
        if self.enabled:
            self.path.unlink(missing_ok=True)


class Bar:
    """``[#####.....] calls 12/40`` redrawn on a TTY; ``calls: 12/40`` lines otherwise."""

    def __init__(self, out: TextIO, *, tty: bool | None = None, width: int = 30) -> None:
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.width = width
        self._last_tenth = -1

    def start(self, phase: str, total: int) -> None:
        self._last_tenth = -1
        self.show(phase, 0, total)

    def show(self, phase: str, done: int, total: int) -> None:
        if self.tty:
            filled = self.width * done // total if total else self.width
            bar = "#" * filled + "." * (self.width - filled)
            print(f"\r[{bar}] {phase} {done}/{total}", end="", file=self.out, flush=True)
            return
        tenth = 10 * done // total if total else 10
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            print(f"{phase}: {done}/{total}", file=self.out, flush=True)

    def end(self) -> None:
        if self.tty:
            print(file=self.out, flush=True)
