"""RFC 3262 on the UAC side: which reliable 18x are PRACKed, which are dropped."""

from __future__ import annotations

import pytest

from salvesti.core.protocols.sip.headers import Headers
from salvesti.core.protocols.sip.message import SipRequest, build_response, make_via
from salvesti.core.protocols.sip.reliable import Reliability, ReliableProvisionals, parse_rseq


def invite(cseq: int = 1) -> SipRequest:
    h = Headers()
    h.add("Via", make_via("udp", "127.0.0.1", 5060))
    h.add("From", "<sip:101@127.0.0.1>;tag=us")
    h.add("To", "<sip:5551234@carrier.example>")
    h.add("Call-ID", "c1")
    h.add("CSeq", f"{cseq} INVITE")
    return SipRequest("INVITE", "sip:5551234@carrier.example", h)


def provisional(status: int = 183, rseq: str | None = "1", *, tag: str = "far", cseq: int = 1, require=True):
    headers = [("Require", "timer, 100rel")] if require else []
    if rseq is not None:
        headers.append(("RSeq", rseq))
    return build_response(invite(cseq), status, to_tag=tag, headers=headers)


def test_a_plain_18x_needs_no_prack() -> None:
    verdict = ReliableProvisionals().classify(provisional(180, None, require=False))
    assert verdict.kind is Reliability.UNRELIABLE and verdict.take and verdict.rack is None


def test_reliable_18x_are_pracked_in_order_and_repeats_are_dropped() -> None:
    state = ReliableProvisionals()
    first = state.classify(provisional(180, "7"))
    assert first.kind is Reliability.NEW and first.rack == "7 1 INVITE"
    assert state.classify(provisional(180, "7")).kind is Reliability.REPEAT  # retransmitted
    assert not state.classify(provisional(180, "7")).take
    assert state.classify(provisional(183, "9")).kind is Reliability.OUT_OF_ORDER  # 8 was lost
    second = state.classify(provisional(183, "8"))
    assert second.kind is Reliability.NEW and second.rack == "8 1 INVITE"
    assert state.classify(provisional(183, "5")).kind is Reliability.REPEAT  # an old one, late


def test_each_early_dialog_and_each_invite_has_its_own_rseq_space() -> None:
    state = ReliableProvisionals()
    assert state.classify(provisional(183, "1", tag="fork-a")).kind is Reliability.NEW
    assert state.classify(provisional(183, "40", tag="fork-b")).kind is Reliability.NEW
    # The INVITE sent again with credentials (CSeq 2) starts afresh.
    again = state.classify(provisional(183, "1", tag="fork-a", cseq=2))
    assert again.kind is Reliability.NEW and again.rack == "1 2 INVITE"


@pytest.mark.parametrize("rseq", [None, "", "abc", "0", str(2**31), "-3"])
def test_require_100rel_without_a_usable_rseq_is_taken_unacknowledged_with_the_reason(rseq) -> None:
    verdict = ReliableProvisionals().classify(provisional(183, rseq))
    assert verdict.kind is Reliability.MALFORMED and verdict.take and verdict.rack is None
    assert verdict.problem and "RSeq" in verdict.problem


def test_parse_rseq_bounds() -> None:
    assert parse_rseq(" 1 ") == 1 and parse_rseq(str(2**31 - 1)) == 2**31 - 1
    with pytest.raises(ValueError, match="outside"):
        parse_rseq("0")
