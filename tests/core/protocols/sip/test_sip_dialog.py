"""Dialog state and in-dialog request construction (RFC 3261 §12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.core.protocols.sip.dialog import Dialog
from salvesti.core.protocols.sip.message import build_response, make_via, parse_message

GOLDEN_DIR = Path(__file__).parent / "golden"


def load(name: str):
    return parse_message((GOLDEN_DIR / name).read_bytes())


def test_uac_dialog_from_sipp_call() -> None:
    invite, ok = load("sipp_uac_invite.sip"), load("sipp_uac_200_ok.sip")
    d = Dialog.from_uac(invite, ok)
    assert d.call_id == invite.call_id
    assert d.local_tag == invite.from_addr.tag and d.remote_tag == ok.to_addr.tag
    assert d.remote_target == "sip:127.0.0.1:15070;transport=UDP"
    assert d.route_set == [] and d.local_cseq == 1 and d.remote_cseq is None and not d.secure
    assert d.id == (invite.call_id, invite.from_addr.tag, ok.to_addr.tag)

    bye = d.create_request("BYE", via=make_via("UDP", "127.0.0.1", 15061))
    assert bye.method == "BYE" and bye.uri == d.remote_target
    assert bye.cseq == (2, "BYE") and d.local_cseq == 2
    assert bye.from_addr.tag == d.local_tag and bye.to_addr.tag == d.remote_tag
    assert bye.headers.items()[0][0] == "Via" and bye.headers.get("Max-Forwards") == "70"
    assert parse_message(bye.to_bytes()) == bye  # a valid message on the wire

    ack = d.create_ack(1)
    assert ack.cseq == (1, "ACK") and ack.uri == d.remote_target and "Via" not in ack.headers
    assert d.local_cseq == 2  # ACK does not consume a CSeq
    assert d.matches(build_response(bye, 200))


def test_uas_dialog_from_baresip_invite() -> None:
    invite = load("baresip_invite.sip")
    d = Dialog.from_uas(invite, "ourtag")
    assert d.remote_tag == invite.from_addr.tag and d.local_tag == "ourtag"
    assert d.remote_target == str(invite.contact.uri)
    assert d.remote_cseq == invite.cseq[0] and d.local_cseq == 0
    bye = d.create_request("bye")
    assert bye.cseq == (1, "BYE")
    assert bye.from_addr.tag == "ourtag" and bye.from_addr.uri == invite.to_addr.uri
    assert bye.to_addr.tag == invite.from_addr.tag and bye.to_addr.uri == invite.from_addr.uri
    # In-dialog requests from the peer must match and come in order.
    assert d.matches(invite) is False  # the INVITE has no To tag yet
    reinvite = parse_message(invite.to_bytes())
    reinvite.headers.set("To", f"{invite.headers.get('To')};tag=ourtag")
    reinvite.headers.set("CSeq", f"{invite.cseq[0] + 1} INVITE")
    assert d.matches(reinvite)
    assert d.accept_remote_cseq(reinvite) is True and d.remote_cseq == invite.cseq[0] + 1
    assert d.accept_remote_cseq(reinvite) is False  # replay / out of order -> 500


def test_record_route_gives_route_set_both_ways() -> None:
    invite = load("ipv6_tel_invite.sip")  # Record-Route: <sip:[2001:db8::1];lr>, <sip:edge...;lr>
    uas = Dialog.from_uas(invite, "t")
    assert uas.route_set == ["<sip:[2001:db8::1];lr>", "<sip:edge.example.ee;lr;transport=tcp>"]
    bye = uas.create_request("BYE")
    assert bye.uri == "sip:trunk@[2001:db8::10]:5060"
    assert bye.headers.get_all("Route") == uas.route_set

    ok = build_response(invite, 200, to_tag="t", headers=[("Contact", "<sip:far@192.0.2.5>")])
    invite.headers.set("From", "<tel:+3726000000>;tag=v6from")
    uac = Dialog.from_uac(invite, ok)
    assert uac.route_set == list(reversed(uas.route_set))
    assert uac.create_request("INFO").headers.get_all("Route") == uac.route_set


def test_strict_router_puts_remote_target_last() -> None:
    d = Dialog(
        call_id="c",
        local_tag="l",
        remote_tag="r",
        local_uri="<sip:a@x>",
        remote_uri="<sip:b@y>",
        remote_target="sip:b@10.0.0.2",
        route_set=["<sip:strict.example;maddr=1.2.3.4>", "<sip:next;lr>"],
    )
    req = d.create_request("BYE")
    assert req.uri == "sip:strict.example"
    assert req.headers.get_all("Route") == ["<sip:next;lr>", "<sip:b@10.0.0.2>"]


def test_target_refresh_and_early_dialog_tag() -> None:
    invite, ok = load("sipp_uac_invite.sip"), load("sipp_uac_200_ok.sip")
    d = Dialog.from_uac(invite, ok)
    reinvite = d.create_request("INVITE")
    refreshed = build_response(reinvite, 200, headers=[("Contact", "<sip:moved@127.0.0.2:5080>")])
    d.update_target(refreshed)
    assert d.remote_target == "sip:moved@127.0.0.2:5080"
    d.update_target(build_response(reinvite, 200))  # no Contact: unchanged
    assert d.remote_target == "sip:moved@127.0.0.2:5080"
    forked = build_response(invite, 200, to_tag="fork2")
    d.update_remote_tag(forked)
    assert d.remote_tag == "fork2" and d.create_request("BYE").to_addr.tag == "fork2"


def test_sips_marks_dialog_secure_and_errors() -> None:
    invite = load("sipp_uac_invite.sip")
    invite.uri = "sips:bob@127.0.0.1"
    assert Dialog.from_uas(invite, "t").secure
    d = Dialog.from_uas(invite, "t")
    with pytest.raises(ValueError, match="ACK reuses its INVITE's CSeq"):
        d.create_request("ACK")
    untagged = load("sipp_uac_invite.sip")
    untagged.headers.set("From", "<sip:sipp@127.0.0.1>")
    with pytest.raises(ValueError, match="must carry a From tag"):
        Dialog.from_uac(untagged, load("sipp_uac_200_ok.sip"))
