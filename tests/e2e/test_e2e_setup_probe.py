"""The setup wizard's credential probe against real registrars (sipp on loopback): the lab's
carrier that accepts every REGISTER, a registrar that challenges and checks the password
(right and wrong), a port that never answers and a name that does not resolve."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from harness.lab import Lab
from harness.procs import wait_for
from harness.sipp import Sipp
from harness.sipwire import options_status

from salvesti.setup.probe import probe_register

pytestmark = pytest.mark.e2e


def probe(registrar: str, user: str, password: str, wait_s: float = 6.0):
    return asyncio.run(probe_register(registrar, user, password, wait_s=wait_s))


def challenging_registrar(tmp_path: Path, name: str) -> Sipp:
    sipp = Sipp(
        name,
        "registrar_challenge.xml",
        tmp_path,
        params={"USER": "3726000000", "PASSWORD": "carrier-Secret-42"},
    )
    sipp.start()
    wait_for(lambda: options_status(sipp.port, timeout=0.3) == 200, 8, interval=0.1, what="sipp registrar")
    return sipp


def test_the_lab_carrier_accepts_and_is_unregistered(lab: Lab) -> None:
    carrier = lab.provider("answer")
    result = probe(carrier.address, "3726000000", "anything")
    assert result.ok, result
    assert result.status == 200
    assert result.words["et"].startswith("Operaator võttis")
    registers = wait_for(lambda: carrier.requests("REGISTER") or None, 5, what="REGISTER at the carrier")
    assert "sip:3726000000@127.0.0.1" in registers[0]


def test_right_password_after_a_challenge(tmp_path: Path) -> None:
    sipp = challenging_registrar(tmp_path, "registrar-right")
    try:
        result = probe(sipp.address, "3726000000", "carrier-Secret-42")
        assert result.ok, (result, sipp.logs())
        registers = sipp.requests("REGISTER")
        assert "Authorization: Digest" in registers[1]
        # the probe takes its binding back: the carrier must not send calls to a closed port
        wait_for(lambda: len(sipp.requests("REGISTER")) >= 3 or None, 5, what="the unREGISTER")
        assert "Expires: 0" in sipp.requests("REGISTER")[2]
    finally:
        sipp.stop()


def test_wrong_password_is_said_in_words(tmp_path: Path) -> None:
    sipp = challenging_registrar(tmp_path, "registrar-wrong")
    try:
        result = probe(sipp.address, "3726000000", "not-the-password")
        assert result.outcome == "credentials" and result.status == 403, (result, sipp.logs())
        assert "403 Forbidden" in result.words["en"]
        assert "kasutajanime või parooli" in result.words["et"]
    finally:
        sipp.stop()


def test_no_answer_is_a_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        result = probe(f"127.0.0.1:{silent.getsockname()[1]}", "u", "p", wait_s=1.0)
    assert result.outcome == "timeout"
    assert "did not answer within 1 s" in result.words["en"]


def test_a_name_that_does_not_resolve_is_unreachable() -> None:
    result = probe("sip.carrier.invalid", "u", "p", wait_s=1.0)
    assert result.outcome == "unreachable"
    assert "sip.carrier.invalid" in result.words["et"]
