"""``manifest.json``: what a backup holds, and the sha256 of every file in it.

Written last, into a folder still named ``<stamp>.partial``, and only then is the folder
renamed to ``<stamp>``: a backup cut off half-way (power cut, full disk) is never mistaken
for a complete one by ``verify``, ``restore`` or the next incremental run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "salvesti-backup"
VERSION = 1
NAME = "manifest.json"
#: A finished backup folder: its UTC start time, with ``-N`` when two start in one second.
FOLDER = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
PARTIAL = ".partial"


@dataclass
class FileEntry:
    """One file of the backup, by its path inside the backup folder."""

    path: str
    kind: str  # database | recording | config
    bytes: int
    sha256: str
    roles: list[str] = field(default_factory=list)  # databases: store, http, keys
    call_id: str | None = None  # recordings
    sink: str | None = None  # recordings
    source: str | None = None  # where it was copied from

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileEntry:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})


@dataclass
class Manifest:
    created_at: str
    node: str
    salvesti_version: str
    config: str
    data_dir: str
    store: dict[str, Any]
    since: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    in_progress: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[FileEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a Salvesti backup manifest (format {data.get('format')!r})")
        if data.get("version") != VERSION:
            raise ValueError(f"manifest version {data.get('version')!r}; this Salvesti reads {VERSION}")
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "files"}
        return cls(**fields, files=[FileEntry.from_json(f) for f in data.get("files") or []])

    def by_path(self) -> dict[str, FileEntry]:
        return {f.path: f for f in self.files}


def write(folder: Path, manifest: Manifest) -> None:
    tmp = folder / (NAME + ".tmp")
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        out.write(text)
    fsync_file(tmp)
    os.replace(tmp, folder / NAME)


def read(folder: Path) -> Manifest:
    """The folder's manifest; raises OSError or ValueError with a plain reason."""
    try:
        data = json.loads((folder / NAME).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{NAME} is not valid JSON: {err}") from None
    return Manifest.from_json(data)


def backups_in(folder: Path) -> list[Path]:
    """The finished backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and FOLDER.match(p.name) and (p / NAME).exists())


def resolve(folder: Path) -> Path:
    """``folder`` itself when it is a backup, else the newest backup in it."""
    if (folder / NAME).exists():
        return folder
    found = backups_in(folder)
    if not found:
        raise FileNotFoundError(f"{folder} holds no backup (no {NAME} in it or in a backup folder below it)")
    return found[-1]


def sha256_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def copy_hashed(src: Path, dst: Path, mode: int = 0o600) -> tuple[int, str]:
    """Copy ``src`` to ``dst`` (via ``dst.part``, fsynced), hashing what was written."""
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dst.with_name(dst.name + ".part")
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as out:
        with open(src, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
                size += len(block)
                out.write(block)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, mode)
    stat = src.stat()
    os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(tmp, dst)
    return size, digest.hexdigest()


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
