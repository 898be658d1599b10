"""Writing the wizard's files: all of them or none, and only once they pass ``check-config``.

Everything is first written into a private staging folder beside the target (same file
system, so the final renames are atomic), fsynced, and validated there by
:func:`salvesti.core.config.load_config` -- the very function ``check-config`` runs.  Only a
valid set is moved into place, ``config.yaml`` last: its presence is the commit point that
``salvesti setup`` and ``salvesti run`` look at.  A failure while moving takes back what was
already moved, so a crash-free failure never leaves half a setup behind; existing files are
never overwritten.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import tempfile
from pathlib import Path

from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError
from salvesti.core.plugins import PluginManager
from salvesti.setup.render import EMPLOYEES_FILE, Rendered


class WriteError(Exception):
    """The files were not written; ``problems`` says why (validator lines, or one reason)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def notice_target(folder: Path, source: Path, wanted: str) -> str:
    """Where the notice goes, relative to ``folder``: ``notices/<wanted>``, unless a different
    file of that name is there already (then ``notices/setup-<wanted>``, and so on)."""
    name, n = wanted, 1
    while True:
        target = folder / "notices" / name
        if not target.exists() or filecmp.cmp(target, source, shallow=False):
            return f"notices/{name}"
        name, n = f"setup{'' if n == 1 else n}-{wanted}", n + 1


def write_atomic_set(
    config_path: Path, rendered: Rendered, notice_source: Path, plugins: PluginManager
) -> list[Path]:
    """Stage, validate and move the files into ``config_path``'s folder; the paths written.

    Raises :class:`WriteError` (nothing written) when a file exists already, the config does
    not validate, or a move fails.
    """
    folder = config_path.parent.resolve()
    secrets_path = folder / "secrets.yaml"
    for existing in (config_path, secrets_path, folder / EMPLOYEES_FILE):
        if existing.exists():
            raise WriteError([f"{existing} exists already; nothing was written"])
    folder.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".salvesti-setup-", dir=folder))
    try:
        staged_config = stage / "config.yaml"
        plan: list[tuple[Path, Path]] = []  # staged file -> final place, in moving order
        notice_rel = rendered.notice_file
        staged_notice = stage / notice_rel
        staged_notice.parent.mkdir(parents=True)
        shutil.copyfile(notice_source, staged_notice)
        _fsync(staged_notice)
        if not (folder / notice_rel).exists():
            plan.append((staged_notice, folder / notice_rel))
        _write(stage / EMPLOYEES_FILE, rendered.employees, 0o644)
        plan.append((stage / EMPLOYEES_FILE, folder / EMPLOYEES_FILE))
        _write(stage / "secrets.yaml", rendered.secrets, 0o600)
        plan.append((stage / "secrets.yaml", secrets_path))
        _write(staged_config, rendered.config, 0o644)
        plan.append((staged_config, config_path))
        try:
            load_config(staged_config, plugins)
        except ConfigError as err:
            raise WriteError(list(err.errors)) from None
        return _move_all(plan)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _move_all(plan: list[tuple[Path, Path]]) -> list[Path]:
    moved: list[Path] = []
    made_dirs: list[Path] = []
    try:
        for src, dst in plan:
            if not dst.parent.exists():
                dst.parent.mkdir(parents=True)
                made_dirs.append(dst.parent)
            if dst.exists():
                raise FileExistsError(f"{dst} appeared while writing")
            os.replace(src, dst)
            moved.append(dst)
            _fsync(dst.parent)
    except OSError as err:
        for path in reversed(moved):
            with contextlib.suppress(OSError):
                path.unlink()
        for path in reversed(made_dirs):
            with contextlib.suppress(OSError):
                path.rmdir()
        raise WriteError(
            [f"could not write {err.filename or ''}: {err.strerror or err}; nothing was kept"]
        ) from err
    return moved


def _write(path: Path, text: str, mode: int) -> None:
    """Write, fsync, and set the mode before the file ever holds its content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.fchmod(fd, mode)  # umask may have taken bits away; 0600 must be exact
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
