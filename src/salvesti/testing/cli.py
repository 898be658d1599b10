"""The ``salvesti`` command run in the test's own process, its output captured.

Faster than a subprocess (no interpreter start, plugins loaded once) and the same code path
as the console script: ``salvesti.cli.main`` with the exit code it returns.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

from salvesti.cli import main


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``salvesti ARGS`` with ``stdin`` as its input; stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        sys.stdin = old
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
