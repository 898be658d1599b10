"""Runs the Chromium browser-phone tests (``netns/``) inside ``unshare -n`` with ``lo`` up.

A browser doing WebRTC may send ICE checks and mDNS to every interface it finds; in its
own network namespace the only one is loopback, so nothing can leave the machine.  The
inner run is a pytest of its own (its output is shown when it fails).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent


# The inner run is several Chromium tests, each under its own 120 s timeout there: the
# outer one bounds the whole run, a little above the subprocess's own 600 s, so a slow
# inner suite ends with its output shown instead of being cut at the ini's 120 s.
@pytest.mark.timeout(660)
def test_chromium_browser_phone_in_a_network_namespace(tmp_path: Path) -> None:
    assert shutil.which("unshare") and shutil.which("ip"), "util-linux and iproute2 are needed"
    env = {**os.environ, "SALVESTI_NETNS": "1"}
    inner = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(HERE / "netns"),
        f"--basetemp={tmp_path / 'inner'}",
        "-o",
        "addopts=",
    ]
    # As root a plain new network namespace; otherwise in a user namespace of our own (-r).
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    cmd = ["unshare", *flags, "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *inner]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=HERE.parents[1])
    assert res.returncode == 0, (
        f"the Chromium phone tests failed:\n{res.stdout[-12000:]}\n{res.stderr[-4000:]}"
    )
    assert " passed" in res.stdout and "skipped" not in res.stdout, res.stdout[-2000:]
