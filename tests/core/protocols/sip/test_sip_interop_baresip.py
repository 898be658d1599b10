"""A real softphone against the sans-IO stack: baresip registers and calls over loopback UDP.

Our side is the registrar and callee: every REGISTER is challenged (401) and every
INVITE (407), the retries are verified by DigestServer, the call is answered with a
negotiated SDP and then ended by our BYE built from the Dialog. Missing baresip fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from salvesti.core.protocols.sdp import PCMA, SessionDescription, build_sdp, negotiate
from salvesti.core.protocols.sip.dialog import Dialog
from salvesti.core.protocols.sip.digest import DigestResult, DigestServer
from salvesti.core.protocols.sip.events import RequestReceived, ResponseReceived, TransactionEvent
from salvesti.core.protocols.sip.message import build_response, make_via, new_tag
from salvesti.core.protocols.sip.transaction import TransactionLayer

# baresip 1.0 gives up when any challenge names SHA-256, so it is offered MD5 alone.
ALGORITHMS = ["MD5"]


def stop(proc: subprocess.Popen) -> None:
    """Kill the whole session (``timeout`` and the peer it runs) and reap it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)


def _baresip(tmp_path: Path, port: int) -> subprocess.Popen:
    assert shutil.which("baresip"), "baresip is required for this test"
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "accounts").write_text(
        f"<sip:101@127.0.0.1:{port}>;auth_pass=secret101;regint=60;audio_codecs=PCMA,PCMU\n"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        own_port = s.getsockname()[1]
    (cfg / "config").write_text(
        f"sip_listen 127.0.0.1:{own_port}\nsip_transports udp\naudio_player null\naudio_alert null\n"
        "audio_source null\nrtp_ports 41000-41040\nmodule_path /usr/lib/baresip/modules\n"
        "module g711.so\nmodule_app account.so\nmodule_app menu.so\n"
    )
    dial = f"/dial sip:200@127.0.0.1:{port}"
    return subprocess.Popen(
        [
            "timeout",
            "-k",
            "2",
            "15",
            "baresip",
            "-4",
            "-n",
            "127.0.0.1",
            "-f",
            str(cfg),
            "-t",
            "8",
            "-e",
            dial,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so the finally block can end timeout AND its child
    )


def test_baresip_registers_and_calls_with_digest(tmp_path: Path, udp_loop) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    layer = TransactionLayer()
    digest = DigestServer("salvesti.test", algorithms=ALGORITHMS)
    passwords = {"101": "secret101"}.get
    log: list[str] = []
    calls: dict[str, Dialog] = {}

    def challenge_or_verify(event: RequestReceived, now: float) -> DigestResult | None:
        req = event.request
        name = "Authorization" if req.method == "REGISTER" else "Proxy-Authorization"
        value = req.headers.get(name)
        result = (
            digest.verify(req.method, value, passwords, time.time(), request_uri=req.uri) if value else None
        )
        if result is None or not result.ok:
            code, header = (
                (401, "WWW-Authenticate") if req.method == "REGISTER" else (407, "Proxy-Authenticate")
            )
            challenges = [
                (header, c)
                for c in digest.challenge_headers(time.time(), stale=bool(result and result.stale))
            ]
            layer.send_response(
                event.txn, build_response(req, code, to_tag=new_tag(), headers=challenges), now
            )
            log.append(f"{req.method} {code}")
            return None
        return result

    def on_event(event: TransactionEvent, now: float) -> None:
        if isinstance(event, ResponseReceived):
            log.append(f"{event.txn.method} got {event.response.status}")
            return
        assert isinstance(event, RequestReceived), event
        req = event.request
        if req.method == "ACK":
            log.append("ACK")
            dialog = calls["call"]
            bye = dialog.create_request("BYE", via=make_via("UDP", "127.0.0.1", port))
            layer.send_request(bye, event.addr, "UDP", now)
            return
        if req.method not in ("REGISTER", "INVITE"):
            layer.send_response(event.txn, build_response(req, 200, to_tag=new_tag()), now)
            return
        result = challenge_or_verify(event, now)
        if result is None:
            return
        assert result.username == "101"
        if req.method == "REGISTER":
            contact = [
                ("Contact", req.headers.get("Contact")),
                ("Expires", req.headers.get("Expires") or "60"),
            ]
            layer.send_response(event.txn, build_response(req, 200, to_tag=new_tag(), headers=contact), now)
            log.append("REGISTER 200")
            return
        tag = new_tag()
        calls["call"] = Dialog.from_uas(req, tag)
        codecs, te = negotiate(SessionDescription.parse(req.body), [PCMA])
        answer = build_sdp(
            session_id=5, version=1, address="127.0.0.1", port=41100, codecs=codecs, telephone_event_pt=te
        )
        headers = [("Contact", f"<sip:200@127.0.0.1:{port}>"), ("Content-Type", "application/sdp")]
        layer.send_2xx(
            event.txn, build_response(req, 200, to_tag=tag, headers=headers, body=answer.to_bytes()), now
        )
        log.append(f"INVITE 200 {codecs[0][1].name}")

    proc = _baresip(tmp_path, port)
    try:
        udp_loop(sock, layer, on_event, lambda: "BYE got 200" in log, limit=12.0)
    finally:
        stop(proc)
        sock.close()
    assert log[log.index("REGISTER 401") + 1 :].count("REGISTER 200") >= 1
    call = [e for e in log if e.startswith(("INVITE", "ACK", "BYE"))]
    assert call == ["INVITE 407", "INVITE 200 PCMA", "ACK", "BYE got 200"], log
