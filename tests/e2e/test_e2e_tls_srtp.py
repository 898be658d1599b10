"""SIP over TLS to the carrier, SRTP (SDES) on the carrier leg, clear audio in the recording.

The carrier is ``harness.tls_carrier`` (a TLS server with a certificate from a CA the test
makes, SRTP on a UDP socket); the desk phone is baresip with plain RTP.  What the carrier
received is checked as it came off its socket: SRTP, whose payload does not sound like the
notice, and which decrypts to exactly the notice and the agent.  The recording holds the
clear audio of both parties.  A certificate for another name, or from a CA Salvesti was not
told to trust, is refused: no REGISTER is sent and the trunk reports ``tls_failed``.  baresip
(libre's TLS, its own srtp module) checks interoperability with code that is not ours: as a
callee over TLS, and as a caller with mandatory SRTP.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from harness.audio import envelope, locate, wav_envelope
from harness.baresip import Baresip
from harness.certs import LabCa
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording
from harness.flows import OUTSIDE, dial_out, hang_up
from harness.lab import Lab
from harness.procs import wait_for
from harness.salvesti import LINE, TRUNK_USER, Salvesti
from harness.tls_carrier import Media, TlsCarrier

from salvesti.core.audio.codecs import get_codec

pytestmark = pytest.mark.e2e

NAME = "carrier.test"


def tls_salvesti(lab: Lab, carrier: TlsCarrier, ca_file: Path, *, srtp: str = "sdes") -> Salvesti:
    trunk = {
        "registrar": f"127.0.0.1:{carrier.port}",
        "username": TRUNK_USER,
        "password": "trunk-secret-1",
        "transport": "tls",
        "tls_ca_file": str(ca_file),
        "tls_server_name": NAME,
        "srtp": srtp,
    }
    extra = {"trunk": trunk, "lines": [LINE], "inbound": {LINE: ["101"]}, "media_core": "auto"}
    return lab.salvesti(source_extra=extra)


def health(salv: Salvesti) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{salv.http_port}/api/health", timeout=5) as resp:
        return json.loads(resp.read())


def trunk_state(salv: Salvesti) -> str | None:
    regs = health(salv).get("registrations") or {}
    assert isinstance(regs, dict)
    return (regs.get("telia") or {}).get("trunk")


def _pcm_envelope(payloads: list[bytes]) -> np.ndarray:
    pcm = get_codec("PCMU", 8000).decode(b"".join(payloads))
    return envelope(np.frombuffer(pcm, "<i2").astype(np.float64), 8000)


def assert_encrypted(media: Media, notice: Path) -> None:
    """The carrier got SRTP: each datagram is the clear packet plus the 80-bit tag, its
    payload read as PCMU is noise, and decrypted it is the notice, from the start."""
    assert media.wire, "the carrier received no media"
    assert media.failed == 0, f"{media.failed} of {len(media.wire)} SRTP packets failed authentication"
    assert all(len(w) == len(c) + 12 + 10 for w, c in zip(media.wire, media.clear, strict=True))
    ref = wav_envelope(notice)
    window = len(ref) + 75
    clear = locate(ref, _pcm_envelope(media.clear)[:window])
    assert clear.corr >= 0.8 and clear.offset_s <= 0.5, f"decrypted, the carrier missed the notice: {clear}"
    wire = locate(ref, _pcm_envelope([w[12:-10] for w in media.wire])[:window])
    assert wire.corr < 0.5, f"the carrier-side RTP reads as clear audio: {wire}"


def test_inbound_over_tls_with_srtp_records_clear_audio(lab: Lab, audio, tmp_path: Path):
    ca = LabCa(tmp_path / "ca", "lab-ca")
    carrier = lab.tls_carrier(ca.issue(NAME))
    salv = tls_salvesti(lab, carrier, ca.cert)
    phone = lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)
    contact = carrier.wait_registered()
    assert ";transport=tls" in contact, f"the Contact does not ask for TLS: {contact}"
    wait_for(lambda: trunk_state(salv) == "registered", 10, what="trunk registered over TLS")

    answer, media = carrier.call(LINE, OUTSIDE, talk_s=14.0)
    assert media is not None, f"Salvesti refused the call: {answer.start}"
    assert b"RTP/SAVP" in answer.body and b"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" in answer.body

    call = salv.wait_call()
    check_call_shape(call)
    assert (call["direction"], call["line"], call["extension"]) == ("inbound", LINE, "101")
    assert call["disposition"] == "answered" and call["notice"]["played"] is True
    assert "CALL_ESTABLISHED" in phone.event_types(), "extension 101 never answered"
    assert carrier.registers >= 1 and not carrier.handshake_errors

    assert_encrypted(media, audio.notice)
    agent = locate(wav_envelope(audio.phone_a)[50:200], _pcm_envelope(media.clear))
    assert agent.corr >= 0.8, f"decrypted, the carrier did not hear the agent: {agent}"

    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))


@pytest.mark.parametrize("fault", ["wrong_name", "unknown_ca"])
def test_carrier_certificate_is_verified(lab: Lab, tmp_path: Path, fault: str):
    trusted = LabCa(tmp_path / "trusted", "trusted-ca")
    if fault == "wrong_name":
        cert = trusted.issue("other.test")
        expected = f"not for {NAME}"
    else:
        cert = LabCa(tmp_path / "stranger", "stranger-ca").issue(NAME)
        expected = "not signed by a trusted CA"
    carrier = lab.tls_carrier(cert)
    salv = tls_salvesti(lab, carrier, trusted.cert)

    wait_for(lambda: trunk_state(salv) == "tls_failed", 15, what="the trunk to report tls_failed")
    wait_for(lambda: expected in salv.logs(), 5, what=f"{expected!r} in Salvesti's log")
    assert carrier.registers == 0, "a REGISTER crossed a connection that failed verification"


def test_outbound_over_tls_offers_srtp_and_records_clear_audio(lab: Lab, audio, tmp_path: Path):
    ca = LabCa(tmp_path / "ca", "lab-ca")
    carrier = lab.tls_carrier(ca.issue(NAME))
    salv = tls_salvesti(lab, carrier, ca.cert)
    phone = lab.phone("101", salv, audio=audio.phone_a)
    carrier.wait_registered()
    wait_for(lambda: trunk_state(salv) == "registered", 10, what="trunk registered over TLS")

    dial_out(phone, salv)
    # Talk until the carrier has heard 9 s of the call (the notice, then the agent).
    wait_for(
        lambda: carrier.current is not None and len(carrier.current.clear) >= 450, 30, what="9 s of media"
    )
    hang_up(phone)
    media = wait_for(lambda: carrier.answered, 10, what="Salvesti's BYE to the carrier")

    invite = carrier.invites[-1]
    assert invite.start.startswith("INVITE sip:") and ";transport=tls" in invite.start
    assert invite.get("Via").startswith("SIP/2.0/TLS ")
    body = invite.body.decode()
    assert " RTP/SAVP " in body and "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" in body

    call = salv.wait_call()
    check_call_shape(call)
    assert (call["direction"], call["remote_number"], call["disposition"]) == (
        "outbound",
        OUTSIDE,
        "answered",
    )
    assert_encrypted(media, audio.notice)
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))


def test_dropped_tls_connection_is_reopened(lab: Lab, tmp_path: Path):
    """The carrier closes the connection: the next request opens a new, verified one."""
    ca = LabCa(tmp_path / "ca", "lab-ca")
    carrier = lab.tls_carrier(ca.issue(NAME), expires=4)
    salv = tls_salvesti(lab, carrier, ca.cert)
    carrier.wait_registered()
    carrier.drop()
    wait_for(lambda: carrier.registers >= 2, 10, what="a REGISTER refresh after the drop")
    assert carrier.connections == 2
    assert trunk_state(salv) == "registered"


def test_plain_rtp_offer_on_an_srtp_trunk_is_refused_with_the_reason(lab: Lab, tmp_path: Path):
    ca = LabCa(tmp_path / "ca", "lab-ca")
    carrier = lab.tls_carrier(ca.issue(NAME))
    salv = tls_salvesti(lab, carrier, ca.cert)
    carrier.wait_registered()

    answer, media = carrier.call(LINE, OUTSIDE, talk_s=1.0, srtp=False)
    assert answer.start.startswith("SIP/2.0 488") and media is None

    call = salv.wait_call()
    assert call["direction"] == "inbound" and call["disposition"] == "failed"
    cause = call["meta"]["sip"]["hangup_cause"]
    assert cause.startswith("SRTP: ") and "RTP/SAVP" in cause and "RTP/AVP" in cause, cause
    assert call["recording"] is None, "a refused call left a recording"


def test_sdes_interoperates_with_baresip_srtp(lab: Lab, audio):
    """Another SRTP implementation (baresip's srtp module, mandatory SRTP) as the carrier's
    caller.  Over UDP, so ``srtp_over_plaintext`` says the key exposure is accepted: this
    checks the SDES and the cipher against a peer that shares no code with Salvesti's."""
    carrier = lab.provider("answer")
    salv = lab.salvesti(start=False)
    trunk = {
        "registrar": f"127.0.0.1:{carrier.port}",
        "username": TRUNK_USER,
        "password": "trunk-secret-1",
        "inbound_from": salv.inbound_from,
        "srtp": "sdes",
        "srtp_over_plaintext": True,
    }
    salv.source_extra.update(trunk=trunk, lines=[LINE], inbound={LINE: ["101"]})
    salv.write_config()
    salv.start()
    phone = lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)
    caller = lab.baresip(
        "outside-caller",
        aor=Baresip.account("+3725557777", "127.0.0.1") + ";mediaenc=srtp-mand",
        audio=audio.outside,
        sip_port=lab.carrier_ua_port,
    )
    caller.dial(f"sip:{LINE}@{salv.address}")
    caller.wait_event("CALL_ESTABLISHED", 10)
    phone.wait_event("CALL_ESTABLISHED", 15)
    time.sleep(5.0)  # the conversation: the agent talks for 5 s
    caller.hangup()
    caller.wait_event("CALL_CLOSED", 5)

    call = salv.wait_call()
    assert call["meta"]["sip"]["outside_srtp"] == "AES_CM_128_HMAC_SHA1_80"
    heard = caller.dumps("dec")
    assert heard, "the caller's phone wrote no dump of what it heard"
    notice = locate(
        wav_envelope(audio.notice), wav_envelope(heard[-1])[: len(wav_envelope(audio.notice)) + 75]
    )
    assert notice.corr >= 0.8, f"baresip did not decrypt the notice Salvesti sent: {notice}"
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))


def test_outbound_over_tls_to_baresip_with_srtp(lab: Lab, audio, tmp_path: Path):
    """baresip (libre's TLS, its srtp module) as the carrier's callee over TLS: Salvesti
    verifies its certificate, offers SDES, and the callee hears the notice decrypted."""
    ca = LabCa(tmp_path / "ca", "lab-ca")
    issued = ca.issue(NAME)
    pem = tmp_path / "baresip-tls.pem"
    pem.write_bytes(issued.cert.read_bytes() + issued.key.read_bytes())
    callee = lab.baresip(
        "outside-callee",
        aor=Baresip.account(OUTSIDE, "127.0.0.1", auto_answer=True) + ";mediaenc=srtp-mand",
        audio=audio.outside,
        tls_cert=pem,
    )
    trunk = {
        "registrar": f"127.0.0.1:{callee.tls_port}",
        "username": TRUNK_USER,
        "password": "trunk-secret-1",
        "transport": "tls",
        "tls_ca_file": str(ca.cert),
        "tls_server_name": NAME,
        "srtp": "sdes",
        "register": False,
        "keepalive": 0,
    }
    salv = lab.salvesti(source_extra={"trunk": trunk, "lines": [LINE], "inbound": {LINE: ["101"]}})
    phone = lab.phone("101", salv, audio=audio.phone_a)
    dial_out(phone, salv, established_timeout=15)
    callee.wait_event("CALL_ESTABLISHED", 5)
    time.sleep(8.0)  # the conversation: the notice, then the agent
    hang_up(phone)
    callee.wait_event("CALL_CLOSED", 5)

    call = salv.wait_call()
    assert call["meta"]["sip"]["outside_srtp"] == "AES_CM_128_HMAC_SHA1_80"
    heard = callee.dumps("dec")
    assert heard, "the callee wrote no dump of what it heard"
    ref = wav_envelope(audio.notice)
    notice = locate(ref, wav_envelope(heard[-1])[: len(ref) + 75])
    assert notice.corr >= 0.8, f"baresip did not hear the notice over SRTP: {notice}"
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))
