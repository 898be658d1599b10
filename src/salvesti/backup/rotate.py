"""``--keep N``: old backup folders are deleted, newest N kept.

Backups hold personal data: a call deleted by retention or erased on request is gone from
the box and from every backup made after that, but stays in older backups until they are
rotated away.  Keeping few backups is what makes "deleted" true everywhere soon enough.
Folders a cut-off backup left (``*.partial``) are removed too; they never count as backups.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from salvesti.backup.manifest import FOLDER, PARTIAL, backups_in


def rotate(folder: Path, keep: int, *, current: Path | None = None) -> list[Path]:
    """Delete all but the newest ``keep`` finished backups in ``folder``; return what went."""
    if keep < 1:
        raise ValueError("--keep must be at least 1")
    finished = backups_in(folder)
    doomed = [p for p in finished[:-keep] if p != current]
    doomed += [
        p
        for p in folder.iterdir()
        if p.is_dir() and p.name.endswith(PARTIAL) and FOLDER.match(p.name[: -len(PARTIAL)]) and p != current
    ]
    for path in doomed:
        shutil.rmtree(path)
    return doomed
