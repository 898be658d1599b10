"""Regenerate the captured golden SIP messages under golden/ from real peers on loopback.

Run by hand (not collected by pytest): ``.venv/bin/python tests/core/protocols/sip/capture_golden.py``.
Needs sipp, baresip, sox and tshark. Every peer is bounded by ``timeout`` and talks to
127.0.0.1 only. The capture files are committed; tests read them, they never re-capture.

What is captured:
- sipp built-in ``uac`` calling the built-in ``uas`` (INVITE, 180, 200, ACK, BYE, 200);
- baresip calling a sipp ``uas`` (a real softphone's INVITE with SDP, and sipp's 200 SDP);
- baresip REGISTER and INVITE against a tiny registrar made of this package's own
  DigestServer (fixed secret and clock), so the authorised retries can be verified.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from salvesti.core.protocols.sip.digest import DigestServer
from salvesti.core.protocols.sip.message import SipRequest, build_response, parse_message

GOLDEN = Path(__file__).parent / "golden"
SECRET = b"salvesti-golden-secret"
NOW = 1_700_000_000.0
REALM = "salvesti.test"


def tshark_capture(ports: list[int], seconds: float, run) -> list[bytes]:
    """Capture UDP on lo for the given ports while ``run()`` executes; return SIP payloads."""
    pcap = Path(tempfile.mkdtemp()) / "cap.pcap"
    flt = " or ".join(f"udp port {p}" for p in ports)
    cap = subprocess.Popen(
        [
            "timeout",
            str(seconds + 5),
            "tshark",
            "-i",
            "lo",
            "-f",
            flt,
            "-a",
            f"duration:{seconds}",
            "-w",
            str(pcap),
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2)
    run()
    cap.wait(timeout=seconds + 10)
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y", "sip", "-T", "fields", "-e", "udp.payload"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return [bytes.fromhex(line.replace(":", "")) for line in out.split() if line]


def quiet(args: list[str], cwd: Path | None = None) -> subprocess.Popen:
    """Start a bounded peer with its output discarded."""
    return subprocess.Popen(
        args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def sipp_cmd(*args: str) -> list[str]:
    """One-call sipp on loopback, bounded by timeout."""
    return ["timeout", "-k", "2", "12", "sipp", *args, "-i", "127.0.0.1", "-m", "1", "-nostdin"]


def baresip_cmd(cfg: Path, seconds: int, target: str) -> list[str]:
    """baresip pinned to loopback (-4 -n), quitting after ``seconds``, killed 4 s later at worst."""
    limit = str(seconds + 4)
    loopback = ["-4", "-n", "127.0.0.1", "-f", str(cfg)]
    return ["timeout", "-k", "2", limit, "baresip", *loopback, "-t", str(seconds), "-e", f"/dial {target}"]


_written: set[str] = set()


def save(name: str, data: bytes) -> None:
    """Keep the first message of each kind (baresip re-REGISTERs to unregister at exit)."""
    if name in _written:
        return
    _written.add(name)
    (GOLDEN / name).write_bytes(data)
    print(f"wrote {name} ({len(data)} bytes)")


def sipp_call() -> None:
    work = Path(tempfile.mkdtemp())

    def run() -> None:
        uas = quiet(sipp_cmd("-sn", "uas", "-p", "15070"), work)
        time.sleep(0.5)
        quiet(sipp_cmd("-sn", "uac", "127.0.0.1:15070", "-s", "bob", "-p", "15061"), work).wait(timeout=15)
        uas.wait(timeout=15)

    msgs = tshark_capture([15070, 15061], 10, run)
    names = ["invite", "180_ringing", "200_ok", "ack", "bye", "bye_200_ok"]
    for name, data in zip(names, msgs, strict=False):
        save(f"sipp_uac_{name}.sip", data)


def baresip_config(work: Path, port: int, account: str) -> Path:
    cfg = work / "cfg"
    cfg.mkdir(parents=True, exist_ok=True)
    wav = work / "tone.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(wav), "synth", "3", "sine", "440"], check=True
    )
    (cfg / "accounts").write_text(account + "\n")
    (cfg / "config").write_text(
        f"sip_listen 127.0.0.1:{port}\nsip_transports udp\naudio_player null\naudio_alert null\n"
        f"audio_source aufile,{wav}\nrtp_ports 15100-15120\nmodule_path /usr/lib/baresip/modules\n"
        "module g711.so\nmodule aufile.so\nmodule_app account.so\nmodule_app menu.so\n"
    )
    return cfg


def baresip_to_sipp() -> None:
    work = Path(tempfile.mkdtemp())
    cfg = baresip_config(work, 15062, "<sip:alice@127.0.0.1>;regint=0;audio_codecs=PCMU,PCMA")

    def run() -> None:
        uas = quiet(sipp_cmd("-sn", "uas", "-p", "15071"), work)
        time.sleep(0.5)
        quiet(baresip_cmd(cfg, 5, "sip:bob@127.0.0.1:15071")).wait(timeout=15)
        uas.wait(timeout=15)

    msgs = tshark_capture([15071, 15062], 10, run)
    for data in msgs:
        msg = parse_message(data)
        if isinstance(msg, SipRequest) and msg.method == "INVITE":
            save("baresip_invite.sip", data)
        elif not isinstance(msg, SipRequest) and msg.status == 200 and msg.cseq[1] == "INVITE":
            save("sipp_uas_200_ok_sdp.sip", data)


def baresip_register_and_auth() -> None:
    """A tiny UDP registrar: 401 to REGISTER, 407 to INVITE, verifies the retries with
    a fixed secret and clock, answers 200 to REGISTER and 486 to the INVITE."""
    work = Path(tempfile.mkdtemp())
    cfg = baresip_config(
        work, 15063, "<sip:101@127.0.0.1:15080>;auth_pass=secret101;regint=60;audio_codecs=PCMA"
    )
    # MD5 only: baresip 1.0 (libre) gives up with ENOSYS ("Register: Function not
    # implemented") when ANY challenge in the 401 names an algorithm it lacks (SHA-256),
    # even when an MD5 challenge comes first.
    server = DigestServer(REALM, algorithms=["MD5"], secret=SECRET)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 15080))
    sock.settimeout(0.2)
    proc = quiet(baresip_cmd(cfg, 6, "sip:200@127.0.0.1:15080"))
    seen: dict[str, int] = {}
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            data, addr = sock.recvfrom(65535)
        except TimeoutError:
            continue
        msg = parse_message(data)
        if not isinstance(msg, SipRequest):
            continue
        m = msg.method
        auth_name = "Authorization" if m == "REGISTER" else "Proxy-Authorization"
        auth = msg.headers.get(auth_name)
        if m == "ACK":  # the first ACKs our 407, the second our 486
            seen["ACK"] = seen.get("ACK", 0) + 1
            save(f"baresip_ack_{407 if seen['ACK'] == 1 else 486}.sip", data)
            continue
        if m not in ("REGISTER", "INVITE"):
            sock.sendto(build_response(msg, 200).to_bytes(), addr)
            continue
        if auth is None:
            save(f"baresip_{m.lower()}_noauth.sip", data)
            code, hdr = (401, "WWW-Authenticate") if m == "REGISTER" else (407, "Proxy-Authenticate")
            resp = build_response(
                msg, code, to_tag="golden", headers=[(hdr, v) for v in server.challenge_headers(NOW)]
            )
            save(f"challenge_{code}.sip", resp.to_bytes())
            sock.sendto(resp.to_bytes(), addr)
            seen[m + "-challenged"] = 1
        else:
            save(f"baresip_{m.lower()}_auth.sip", data)
            result = server.verify(m, auth, {"101": "secret101"}.get, NOW + 1)
            print(m, result)
            code = 200 if m == "REGISTER" else 486
            extra = [("Contact", msg.headers.get("Contact") or ""), ("Expires", "60")] if code == 200 else []
            sock.sendto(build_response(msg, code, to_tag="golden", headers=extra).to_bytes(), addr)
            seen[m] = 1
    proc.wait(timeout=15)
    sock.close()


if __name__ == "__main__":
    os.chdir(tempfile.mkdtemp())
    sipp_call()
    baresip_to_sipp()
    baresip_register_and_auth()
