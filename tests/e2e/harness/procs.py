"""Child processes that always die: every tool a test starts goes through ``ManagedProcess``.

Each process runs under coreutils ``timeout`` (so a hung peer dies even if pytest itself is
killed), in its own process group, with stdout and stderr in files that a failing test
prints.  ``stop()`` ends it by its own ids: SIGTERM, a bounded wait, then SIGKILL.

``timeout`` forwards SIGTERM/SIGINT to the command, but a SIGKILL stops only ``timeout``
itself; ``child_pid`` finds the real command (needed for kill -9 tests and for reading its
CPU time from /proc).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: Every ManagedProcess started in this pytest process, so conftest can attach their logs.
STARTED: list[ManagedProcess] = []


class ToolMissing(RuntimeError):
    """A required external tool is not installed (tests must fail, not skip)."""


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(f"{name} is not installed (apt-get install the package that provides it)")
    return path


def wait_for(check: Callable[[], T | None], timeout: float, *, interval: float = 0.1, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; bounded in time and in count."""
    deadline = time.monotonic() + timeout
    tries = int(timeout / interval) + 2
    last: T | None = None
    for _ in range(tries):
        last = check()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.1f} s waiting for {what or check!r}")


class ManagedProcess:
    """One external program under ``timeout``, logged to ``log_dir/name.{out,err}``."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        log_dir: Path,
        timeout_s: float,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.log_dir = Path(log_dir)
        self.timeout_s = timeout_s
        self.cwd = cwd
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.stdout_path = self.log_dir / f"{name}.out"
        self.stderr_path = self.log_dir / f"{name}.err"

    def start(self) -> ManagedProcess:
        if "/" not in self.argv[0]:
            require_tool(self.argv[0])
        self.log_dir.mkdir(parents=True, exist_ok=True)
        argv = ["timeout", "--kill-after=3", f"{self.timeout_s:.0f}", *self.argv]
        env = dict(os.environ)
        env.update(self.env or {})
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=self.cwd,
                env=env,
                start_new_session=True,
            )
        STARTED.append(self)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} not started"
        return self.proc.pid

    @property
    def child_pid(self) -> int:
        """Pid of the real command (the child of ``timeout``), waiting briefly for the fork."""

        def find() -> int | None:
            try:
                kids = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            except OSError:
                return None
            return int(kids[0]) if kids else None

        return wait_for(find, 5.0, interval=0.02, what=f"{self.name}'s child process")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def signal(self, sig: int) -> None:
        if self.running():
            os.kill(self.pid, sig)

    def signal_child(self, sig: int) -> None:
        """Signal the command itself.  (Signalling ``timeout`` would forward it, but also
        arm ``--kill-after``, which SIGKILLs a command that takes longer to shut down.)"""
        os.kill(self.child_pid, sig)

    def kill_child(self) -> None:
        """SIGKILL the command itself (not just ``timeout``), as a crash or power cut would."""
        os.kill(self.child_pid, signal.SIGKILL)

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL the whole group we created."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                return self.proc.wait(timeout=grace)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        if self.proc.poll() is None or _group_alive(self.pid):
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        return self.proc.returncode

    def logs(self, tail: int = 4000) -> str:
        parts = []
        for path in (self.stdout_path, self.stderr_path):
            if path.exists():
                text = path.read_bytes()[-tail:].decode(errors="replace")
                parts.append(f"--- {path.name} (last {tail} bytes) ---\n{text}")
        return "\n".join(parts)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run(
    argv: list[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    input_: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a short command to completion under ``timeout`` (checked by the caller)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        ["timeout", "--kill-after=2", f"{timeout:.0f}", *argv],
        input=input_,
        capture_output=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout + 5,
        check=False,
    )
