"""The sans-IO stack against a real peer: sipp's built-in UAC and UAS over UDP on 127.0.0.1.

A tiny blocking loop moves bytes between one UDP socket and the TransactionLayer; the
call logic is a few lines per event. sipp exits 0 only when the whole scenario (with
its own timing checks) succeeded. Missing sipp fails the test, by design.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from salvesti.core.protocols.sdp import PCMA, PCMU, SessionDescription, build_sdp, negotiate
from salvesti.core.protocols.sip.dialog import Dialog
from salvesti.core.protocols.sip.events import RequestReceived, ResponseReceived, TransactionEvent
from salvesti.core.protocols.sip.headers import Headers
from salvesti.core.protocols.sip.message import (
    SipRequest,
    StreamParser,
    build_response,
    make_via,
    new_call_id,
    new_tag,
)
from salvesti.core.protocols.sip.transaction import TransactionLayer


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Kill the whole session (``timeout`` and the peer it runs) and reap it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)


def _sipp(args: list[str], cwd: Path) -> subprocess.Popen:
    assert shutil.which("sipp"), "sipp (Debian package sip-tester) is required for this test"
    return subprocess.Popen(
        [
            "timeout",
            "-k",
            "2",
            "20",
            "sipp",
            *args,
            "-i",
            "127.0.0.1",
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "15s",
        ],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # so the finally block can end timeout AND its child
    )


def uas_handler(
    layer: TransactionLayer, contact: str, seen: list[str]
) -> Callable[[TransactionEvent, float], None]:
    """Answer INVITE with 180 and a negotiated 200, BYE with 200; log every method."""

    def on_event(event: TransactionEvent, now: float) -> None:
        assert isinstance(event, RequestReceived), event
        req = event.request
        seen.append(req.method)
        if req.method == "INVITE":
            codecs, te = negotiate(SessionDescription.parse(req.body), [PCMA, PCMU])
            answer = build_sdp(
                session_id=1, version=1, address="127.0.0.1", port=40000, codecs=codecs, telephone_event_pt=te
            )
            layer.send_response(event.txn, build_response(req, 180, to_tag="uas1"), now)
            headers = [("Contact", contact), ("Content-Type", "application/sdp")]
            layer.send_2xx(
                event.txn,
                build_response(req, 200, to_tag="uas1", headers=headers, body=answer.to_bytes()),
                now,
            )
        elif req.method == "BYE":
            layer.send_response(event.txn, build_response(req, 200), now)

    return on_event


def test_sipp_uac_calls_our_uas(tmp_path: Path, udp_loop) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    layer = TransactionLayer()
    seen: list[str] = []
    on_event = uas_handler(layer, f"<sip:uas@127.0.0.1:{port}>", seen)
    proc = _sipp(["-sn", "uac", f"127.0.0.1:{port}", "-p", str(_free_udp_port())], tmp_path)
    try:
        udp_loop(sock, layer, on_event, lambda: "BYE" in seen)
        assert proc.wait(timeout=15) == 0, proc.stderr.read().decode(errors="replace")[-2000:]
    finally:
        stop(proc)
        sock.close()
    assert seen == ["INVITE", "ACK", "BYE"]


def test_sipp_uac_over_tcp(tmp_path: Path) -> None:
    """TCP: StreamParser frames sipp's stream; nothing is ever retransmitted."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(10)
    port = server.getsockname()[1]
    layer = TransactionLayer()
    seen: list[str] = []
    on_event = uas_handler(layer, f"<sip:uas@127.0.0.1:{port};transport=tcp>", seen)
    sent: list[bytes] = []
    proc = _sipp(["-sn", "uac", f"127.0.0.1:{port}", "-t", "t1", "-p", str(_free_udp_port())], tmp_path)
    try:
        conn, addr = server.accept()
        parser = StreamParser()
        deadline = time.monotonic() + 15
        while "BYE" not in seen:
            assert time.monotonic() < deadline, "sipp did not finish in time"
            conn.settimeout(0.2)
            try:
                chunk = conn.recv(65535)
            except TimeoutError:
                chunk = None
            if chunk == b"":
                break
            events = layer.handle_timer(time.monotonic())
            for msg in parser.feed(chunk or b""):
                events += layer.receive(msg, addr, "TCP", time.monotonic())
            for event in events:
                on_event(event, time.monotonic())
            for data, _addr, transport in layer.datagrams_to_send():
                assert transport == "TCP"
                conn.sendall(data)
                sent.append(data.split(b" ", 2)[1])
        assert proc.wait(timeout=15) == 0, proc.stderr.read().decode(errors="replace")[-2000:]
        conn.close()
    finally:
        stop(proc)
        server.close()
    assert seen == ["INVITE", "ACK", "BYE"]
    assert sent == [b"100", b"180", b"200", b"200"]  # one 200 for INVITE, one for BYE: no retransmits


def test_our_uac_calls_sipp_uas(tmp_path: Path, udp_loop) -> None:
    sipp_port = _free_udp_port()
    proc = _sipp(["-sn", "uas", "-p", str(sipp_port)], tmp_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    peer = ("127.0.0.1", sipp_port)
    layer = TransactionLayer()
    statuses: list[tuple[str, int]] = []
    state: dict[str, Dialog] = {}

    h = Headers()
    h.add("Via", make_via("UDP", "127.0.0.1", port))
    h.add("Max-Forwards", "70")
    h.add("From", f"<sip:salvesti@127.0.0.1:{port}>;tag={new_tag()}")
    h.add("To", f"<sip:service@127.0.0.1:{sipp_port}>")
    h.add("Call-ID", new_call_id("127.0.0.1"))
    h.add("CSeq", "1 INVITE")
    h.add("Contact", f"<sip:salvesti@127.0.0.1:{port}>")
    h.add("Content-Type", "application/sdp")
    sdp = build_sdp(
        session_id=7, version=1, address="127.0.0.1", port=40002, codecs=[(0, PCMU)], telephone_event_pt=101
    )
    invite = SipRequest("INVITE", f"sip:service@127.0.0.1:{sipp_port}", h, sdp.to_bytes())

    def on_event(event: TransactionEvent, now: float) -> None:
        assert isinstance(event, ResponseReceived), event
        resp = event.response
        statuses.append((event.txn.method, resp.status))
        if event.txn.method == "INVITE" and resp.status == 200:
            dialog = state.setdefault("dialog", Dialog.from_uac(invite, resp))
            ack = dialog.create_ack(invite.cseq[0], via=make_via("UDP", "127.0.0.1", port))
            layer.send_stateless(ack, peer, "UDP")
            if "bye" not in state:
                time.sleep(0.2)
                bye = dialog.create_request("BYE", via=make_via("UDP", "127.0.0.1", port))
                state["bye"] = dialog
                layer.send_request(bye, peer, "UDP", now)

    try:
        time.sleep(0.3)  # let sipp bind
        layer.send_request(invite, peer, "UDP", time.monotonic())
        udp_loop(sock, layer, on_event, lambda: ("BYE", 200) in statuses)
        assert proc.wait(timeout=15) == 0, proc.stderr.read().decode(errors="replace")[-2000:]
    finally:
        stop(proc)
        sock.close()
    assert [s for s in statuses if s[0] == "INVITE"][-1] == ("INVITE", 200)
    assert ("BYE", 200) in statuses
