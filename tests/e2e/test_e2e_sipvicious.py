"""A SIP scanner against ``salvesti run``: SIPVicious (svmap, svwar, svcrack) as attackers do.

From another loopback address (127.0.0.2) so the lockout of that source does not lock out the
office phone on 127.0.0.1.  Salvesti must be found (it answers OPTIONS, as any PBX), but must
not tell which extensions exist (svwar finds none), must not let a dictionary attack guess a
password (the source is ignored after 5 failures, before the right one comes), and must go
on serving the real phone.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness.lab import Lab
from harness.salvesti import EXTENSIONS

pytestmark = pytest.mark.e2e
SCANNER = "127.0.0.2"


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    assert Path(found).exists(), f"{name} missing: pip install sipvicious (a test dependency)"
    return found


def run(argv: list[str], timeout: float = 60) -> str:
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return res.stdout + res.stderr


def test_scanner_learns_nothing_and_guesses_nothing(lab: Lab, audio, tmp_path: Path) -> None:
    salv = lab.salvesti()
    target = f"udp://127.0.0.1:{salv.sip_port}"

    found = run([tool("sipvicious_svmap"), "-b", SCANNER, target])
    assert str(salv.sip_port) in found, f"svmap did not see the PBX at all:\n{found}"

    enumerated = run([tool("sipvicious_svwar"), "-b", SCANNER, "-e100-120", "-m", "REGISTER", target])
    # Every user, real or not, gets the same challenge: svwar sees that and gives up.
    assert "found nothing" in enumerated and "| 101" not in enumerated, enumerated

    password = EXTENSIONS["101"][0]
    words = tmp_path / "words.txt"
    words.write_text("".join(f"guess{i}\n" for i in range(20)) + password + "\n")
    svcrack = [sys.executable, str(Path(__file__).parent / "harness" / "svcrack_from.py"), SCANNER]
    cracked = run([*svcrack, "-u101", "-d", str(words), target], timeout=120)
    assert password not in cracked, f"svcrack found the password:\n{cracked}"
    assert f"{SCANNER} failed to authenticate 5 times" in salv.logs(), "the scanner was not locked out"

    lab.phone("101", salv)  # the real phone, from 127.0.0.1, still registers (it waits for the 200)
