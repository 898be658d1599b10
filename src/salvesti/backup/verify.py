"""``salvesti backup verify``: is this backup whole, and would it restore?

Every file is checked against the manifest (present, size, sha256), every database is opened
and ``PRAGMA integrity_check``-ed, secrets must still be private (mode 0600), and files the
manifest does not know are named.  Problems come back as plain sentences, one per problem.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

from salvesti.backup import manifest as mf
from salvesti.backup.manifest import Manifest, sha256_file
from salvesti.backup.sqlite_copy import integrity


@dataclass
class Report:
    folder: Path
    manifest: Manifest | None = None
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(folder: Path) -> Report:
    report = Report(folder)
    try:
        man = mf.read(folder)
    except FileNotFoundError:
        report.problems.append(f"{mf.NAME} is missing: this folder is not a finished backup")
        return report
    except (OSError, ValueError) as err:
        report.problems.append(f"{mf.NAME} cannot be read: {err}")
        return report
    report.manifest = man
    for entry in man.files:
        path = folder / entry.path
        if not path.is_file():
            report.problems.append(f"{entry.path} is missing ({entry.kind}{_of(entry.call_id)})")
            continue
        size, digest = sha256_file(path)
        report.checked += 1
        if size != entry.bytes:
            report.problems.append(f"{entry.path} has {size} bytes, the manifest says {entry.bytes}")
        elif digest != entry.sha256:
            report.problems.append(f"{entry.path} is damaged: its sha256 is not the one in the manifest")
        if entry.kind == "database" and (found := integrity(path)) is not None:
            report.problems.append(f"database {entry.path} {found}")
        if entry.path.endswith("secrets.yaml") and stat.S_IMODE(path.stat().st_mode) & 0o077:
            mode = oct(stat.S_IMODE(path.stat().st_mode))
            report.problems.append(f"{entry.path} is readable by others (mode {mode}; should be 0o600)")
    known = set(man.by_path()) | {mf.NAME}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel not in known:
            report.problems.append(f"{rel} is not in the manifest (added after the backup was made?)")
    return report


def _of(call_id: str | None) -> str:
    return f" of call {call_id}" if call_id else ""
