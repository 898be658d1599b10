"""Two TransactionLayer endpoints driven against each other with a fake clock, no sockets."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salvesti.core.protocols.sip.events import (
    AckTimeout,
    CancelReceived,
    ProvisionalTimeout,
    RequestReceived,
    ResponseReceived,
    TransactionTimeout,
    TransportFailed,
)
from salvesti.core.protocols.sip.headers import Headers
from salvesti.core.protocols.sip.message import (
    SipRequest,
    build_response,
    make_via,
    new_tag,
    parse_message,
)
from salvesti.core.protocols.sip.transaction import TransactionLayer

A_ADDR = ("127.0.0.1", 5061)
B_ADDR = ("127.0.0.1", 5070)


@dataclass
class Net:
    """A lossy in-memory network between UAC layer ``a`` and UAS layer ``b``."""

    transport: str = "UDP"
    a: TransactionLayer = field(default_factory=TransactionLayer)
    b: TransactionLayer = field(default_factory=TransactionLayer)
    now: float = 0.0
    sent: list[tuple[float, str, str]] = field(default_factory=list)  # (time, "a"/"b", start line)
    drop: set[str] = field(default_factory=set)  # e.g. {"a:ACK", "b:200", "b:*"}
    events_a: list = field(default_factory=list)
    events_b: list = field(default_factory=list)

    def pump(self) -> None:
        for _ in range(50):  # bounded: each round moves every queued datagram once
            moved = False
            for side, layer, peer, events, src in (
                ("a", self.a, self.b, self.events_b, A_ADDR),
                ("b", self.b, self.a, self.events_a, B_ADDR),
            ):
                for data, _addr, transport in layer.datagrams_to_send():
                    moved = True
                    msg = parse_message(data)
                    kind = msg.method if isinstance(msg, SipRequest) else str(msg.status)
                    self.sent.append((self.now, side, kind))
                    if self.is_lost(side, kind):
                        continue
                    events += peer.receive(msg, src, transport, self.now)
            if not moved:
                return
        raise AssertionError("network did not settle")

    def is_lost(self, side: str, kind: str) -> bool:
        return f"{side}:{kind}" in self.drop or f"{side}:*" in self.drop

    def run_until(self, t: float) -> None:
        """Fire every timer of both layers up to ``t``, in time order."""
        for _ in range(1000):
            deadlines = [d for d in (self.a.next_timer(), self.b.next_timer()) if d is not None and d <= t]
            if not deadlines:
                break
            self.now = min(deadlines)
            self.events_a += self.a.handle_timer(self.now)
            self.events_b += self.b.handle_timer(self.now)
            self.pump()
        self.now = t

    def call(self, method: str) -> tuple:
        """A sends ``method`` over UDP at t=0; returns A's transaction and B's RequestReceived."""
        txn = self.a.send_request(request(method), B_ADDR, "UDP", 0.0)
        self.pump()
        [got] = only(self.events_b, RequestReceived)
        return txn, got

    def answer(self, got: RequestReceived, status: int, at: float) -> None:
        """B's user answers ``got`` with ``status`` at time ``at``."""
        self.b.send_response(got.txn, build_response(got.request, status, to_tag="b"), at)
        self.pump()

    def times(self, side: str, kind: str) -> list[float]:
        return [t for t, s, k in self.sent if s == side and k == kind]


def request(method: str, transport: str = "UDP", cseq: int = 1) -> SipRequest:
    h = Headers()
    h.add("Via", make_via(transport, *A_ADDR))
    h.add("Max-Forwards", "70")
    h.add("From", f"<sip:alice@127.0.0.1>;tag={new_tag()}")
    h.add("To", "<sip:bob@127.0.0.1>")
    h.add("Call-ID", "call-1@127.0.0.1")
    h.add("CSeq", f"{cseq} {method}")
    h.add("Contact", "<sip:alice@127.0.0.1:5061>")
    return SipRequest(method, "sip:bob@127.0.0.1:5070", h)


def only(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def test_invite_retransmits_at_timer_a_and_times_out_at_32s() -> None:
    net = Net(drop={"a:INVITE"})
    txn = net.a.send_request(request("INVITE"), B_ADDR, "UDP", 0.0)
    net.pump()
    net.run_until(40)
    assert net.times("a", "INVITE") == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert net.events_a == [TransactionTimeout(txn)]
    assert txn.state == "terminated" and net.a.next_timer() is None


def test_non_invite_retransmits_capped_at_t2_and_times_out_at_32s() -> None:
    net = Net(drop={"a:OPTIONS"})
    txn = net.a.send_request(request("OPTIONS"), B_ADDR, "UDP", 0.0)
    net.pump()
    net.run_until(40)
    assert net.times("a", "OPTIONS") == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert net.events_a == [TransactionTimeout(txn)]


def test_tcp_never_retransmits() -> None:
    net = Net(drop={"a:INVITE", "a:OPTIONS"})
    invite = net.a.send_request(request("INVITE", "TCP"), B_ADDR, "TCP", 0.0)
    options = net.a.send_request(request("OPTIONS", "TCP", 2), B_ADDR, "TCP", 0.0)
    net.pump()
    net.run_until(40)
    assert net.times("a", "INVITE") == [0.0] and net.times("a", "OPTIONS") == [0.0]
    assert net.events_a == [TransactionTimeout(invite), TransactionTimeout(options)]


def test_tcp_non_invite_completes_without_timer_k() -> None:
    net = Net()
    txn = net.a.send_request(request("OPTIONS", "TCP"), B_ADDR, "TCP", 0.0)
    net.pump()
    [got] = only(net.events_b, RequestReceived)
    net.answer(got, 200, 0.0)
    assert [e.response.status for e in only(net.events_a, ResponseReceived)] == [200]
    assert txn.state == "terminated" and got.txn.state == "terminated"
    assert net.a.next_timer() is None and net.b.next_timer() is None


def test_non_invite_request_retransmission_is_absorbed_and_answer_resent() -> None:
    net = Net()
    txn = net.a.send_request(request("OPTIONS"), B_ADDR, "UDP", 0.0)
    net.pump()
    net.run_until(1.0)  # B's user is slow; A retransmits at 0.5, B absorbs it
    assert net.times("a", "OPTIONS") == [0.0, 0.5]
    [got] = only(net.events_b, RequestReceived)
    net.b.send_response(got.txn, build_response(got.request, 200, to_tag="b"), net.now)
    net.pump()
    assert [e.response.status for e in net.events_a] == [200]
    assert txn.state == "completed"
    # A late copy of the request makes B resend its last answer, not bother its user.
    net.b.receive(parse_message(txn.request.to_bytes()), A_ADDR, "UDP", net.now)
    net.pump()
    assert net.times("b", "200") == [1.0, 1.0]
    assert len(only(net.events_b, RequestReceived)) == 1
    assert len(net.events_a) == 1  # the duplicate 200 is absorbed by A's completed txn
    net.run_until(100)
    assert txn.state == "terminated" and got.txn.state == "terminated"  # timers K and J


def test_invite_200_ack_happy_path() -> None:
    net = Net()
    txn, got = net.call("INVITE")
    assert got.txn.state == "proceeding" and got.addr == A_ADDR and got.transport == "UDP"
    assert [e.response.status for e in net.events_a] == [100]  # automatic 100 Trying stops timer A
    ringing = build_response(got.request, 180, to_tag="btag")
    net.b.send_response(got.txn, ringing, 0.1)
    ok = build_response(got.request, 200, to_tag="btag", headers=[("Contact", "<sip:bob@127.0.0.1:5070>")])
    net.b.send_2xx(got.txn, ok, 0.2)
    net.now = 0.2
    net.pump()
    assert [e.response.status for e in net.events_a] == [100, 180, 200]
    assert txn.state == "accepted" and got.txn.state == "accepted"
    # The UAC's user sends the ACK for the 2xx itself, with a new branch.
    ack = request("ACK")
    ack.headers.set("To", net.events_a[-1].response.headers.get("To"))
    net.a.send_stateless(ack, B_ADDR, "UDP")
    net.pump()
    [ack_event] = [e for e in only(net.events_b, RequestReceived) if e.request.method == "ACK"]
    assert ack_event.txn is None
    net.run_until(60)
    assert net.times("a", "INVITE") == [0.0]
    assert net.times("b", "200") == [0.2]  # ACK came at once: no retransmission
    assert not only(net.events_b, AckTimeout) and not only(net.events_a, TransactionTimeout)
    assert net.a.transactions == [] and net.b.transactions == []


def test_2xx_retransmitted_until_ack_timeout_when_ack_is_lost() -> None:
    net = Net(drop={"a:ACK"})
    txn, got = net.call("INVITE")
    net.b.send_response(got.txn, build_response(got.request, 200, to_tag="b"), 0.0)  # routed to send_2xx
    net.pump()
    ack = request("ACK")
    for event in list(net.events_a):
        if isinstance(event, ResponseReceived) and event.response.status == 200:
            net.a.send_stateless(ack, B_ADDR, "UDP")  # lost every time
    net.run_until(40)
    assert net.times("b", "200") == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert only(net.events_b, AckTimeout) == [AckTimeout("call-1@127.0.0.1", 1)]
    # A's INVITE transaction hands every retransmitted 2xx to its user (RFC 6026 Accepted).
    assert len([e for e in net.events_a if e.response.status == 200]) == 11
    assert txn.state == "terminated"  # timer M


def test_ack_received_stops_2xx_retransmission() -> None:
    net = Net(drop={"a:ACK"})
    net.a.send_request(request("INVITE"), B_ADDR, "UDP", 0.0)
    net.pump()
    [got] = only(net.events_b, RequestReceived)
    net.b.send_2xx(got.txn, build_response(got.request, 200, to_tag="b"), 0.0)
    net.pump()
    net.run_until(2.0)
    assert net.b.ack_received("call-1@127.0.0.1", 1) is True
    assert net.b.ack_received("call-1@127.0.0.1", 1) is False
    net.run_until(40)
    assert net.times("b", "200") == [0.0, 0.5, 1.5]
    assert not only(net.events_b, AckTimeout)


def test_non_2xx_final_is_acked_by_the_layer_and_ack_absorbed() -> None:
    net = Net()
    txn, got = net.call("INVITE")
    net.answer(got, 486, 0.0)
    assert [e.response.status for e in net.events_a] == [100, 486]
    assert net.times("a", "ACK") == [0.0]
    assert txn.ack is not None and txn.ack.cseq == (1, "ACK") and txn.ack.via.branch == txn.branch
    assert txn.ack.to_addr.tag == "b"
    assert len(only(net.events_b, RequestReceived)) == 1  # the ACK never reaches B's user
    assert got.txn.state == "confirmed"
    net.run_until(60)
    assert net.times("b", "486") == [0.0]
    assert got.txn.state == "terminated" and txn.state == "terminated"  # timers I and D


def test_non_2xx_final_retransmitted_until_timer_h_when_ack_lost() -> None:
    net = Net(drop={"a:ACK"})
    txn, got = net.call("INVITE")
    net.answer(got, 603, 0.0)
    net.run_until(40)
    assert net.times("b", "603") == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    # A re-ACKs every retransmission (timer D still running) but tells its user once.
    assert len(net.times("a", "ACK")) == 11
    assert [e.response.status for e in net.events_a] == [100, 603]
    assert net.events_b[-1] == TransactionTimeout(got.txn)
    assert txn.state == "terminated"


def test_cancel_then_487() -> None:
    net = Net()
    invite, got = net.call("INVITE")
    net.answer(got, 180, 0.0)
    cancel = net.a.cancel(invite, 1.0)
    net.now = 1.0
    net.pump()
    assert cancel.request.method == "CANCEL" and cancel.request.cseq == (1, "CANCEL")
    assert cancel.request.via.branch == invite.branch and cancel.request.uri == invite.request.uri
    [cancelled] = only(net.events_b, CancelReceived)
    assert cancelled.invite_txn is got.txn
    # The layer answered the CANCEL itself; the user answers the INVITE with 487.
    net.answer(got, 487, 1.0)
    statuses = [(e.txn.method, e.response.status) for e in only(net.events_a, ResponseReceived)]
    assert statuses == [("INVITE", 100), ("INVITE", 180), ("CANCEL", 200), ("INVITE", 487)]
    assert net.times("a", "ACK") == [1.0]
    assert cancel.state == "completed" and invite.state == "completed"


def test_cancel_waits_for_a_provisional_response() -> None:
    net = Net(b=TransactionLayer(auto_trying=False))
    invite = net.a.send_request(request("INVITE"), B_ADDR, "UDP", 0.0)
    net.pump()
    cancel = net.a.cancel(invite, 0.1)
    net.pump()
    assert net.times("a", "CANCEL") == []  # §9.1: not before a provisional response
    [got] = only(net.events_b, RequestReceived)
    net.b.send_response(got.txn, build_response(got.request, 183, to_tag="b"), 0.2)
    net.now = 0.2
    net.pump()
    assert net.times("a", "CANCEL") == [0.2]
    assert only(net.events_b, CancelReceived)[0].invite_txn is got.txn
    assert cancel.state == "completed"


def test_cancel_after_final_sends_nothing() -> None:
    net = Net()
    invite, got = net.call("INVITE")
    net.answer(got, 486, 0.0)
    cancel = net.a.cancel(invite, 0.5)
    net.pump()
    assert cancel.state == "terminated" and net.times("a", "CANCEL") == []


def test_cancel_for_pending_invite_dropped_when_final_arrives_first() -> None:
    net = Net(b=TransactionLayer(auto_trying=False))
    invite = net.a.send_request(request("INVITE"), B_ADDR, "UDP", 0.0)
    net.pump()
    cancel = net.a.cancel(invite, 0.1)
    [got] = only(net.events_b, RequestReceived)
    net.answer(got, 404, 0.2)
    assert cancel.state == "terminated" and net.times("a", "CANCEL") == []


def test_unmatched_cancel_gets_481() -> None:
    net = Net()
    cancel = request("CANCEL")
    net.a.send_request(cancel, B_ADDR, "UDP", 0.0)
    net.pump()
    assert [e.response.status for e in net.events_a] == [481]
    assert net.events_b == []


def test_cancel_after_final_answer_gets_200_but_no_event() -> None:
    net = Net()
    invite, got = net.call("INVITE")
    net.answer(got, 486, 0.0)
    late = SipRequest("CANCEL", invite.request.uri, invite.request.headers.copy())
    late.headers.set("CSeq", "1 CANCEL")
    net.b.receive(late, A_ADDR, "UDP", 0.1)
    net.pump()
    assert not only(net.events_b, CancelReceived)
    assert net.times("b", "200") == [0.0]


def test_via_received_and_rport_are_stamped() -> None:
    net = Net()
    req = request("OPTIONS")
    req.headers.set("Via", make_via("UDP", "10.9.9.9", 5999, branch="z9hG4bKnat"))
    [got] = only(net.b.receive(req, ("192.0.2.1", 40000), "UDP", 0.0), RequestReceived)
    via = got.request.via
    assert (via.received, via.rport) == ("192.0.2.1", 40000)
    txn = net.b.transactions[0]
    net.b.send_response(txn, build_response(req, 200, to_tag="x"), 0.0)
    [(data, addr, transport)] = net.b.datagrams_to_send()
    assert addr == ("192.0.2.1", 40000) and transport == "UDP"
    assert b"Via: SIP/2.0/UDP 10.9.9.9:5999;branch=z9hG4bKnat;rport=40000;received=192.0.2.1\r\n" in data


def test_rport_request_always_gets_received_and_plain_via_only_when_needed() -> None:
    layer = TransactionLayer()
    same = request("OPTIONS")  # sent-by 127.0.0.1:5061 with rport
    [got] = layer.receive(same, A_ADDR, "UDP", 0.0)
    assert got.request.via.params == {"branch": same.via.branch, "rport": "5061", "received": "127.0.0.1"}
    plain = request("OPTIONS", cseq=2)
    plain.headers.set("Via", "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKplain")
    [got] = layer.receive(plain, A_ADDR, "UDP", 0.0)
    assert got.request.headers.get("Via") == "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKplain"


def test_transport_error_ends_transaction_like_a_timeout() -> None:
    layer = TransactionLayer()
    txn = layer.send_request(request("INVITE", "TCP"), B_ADDR, "TCP", 0.0)
    assert layer.transport_error(txn) == [TransportFailed(txn)]
    assert isinstance(TransportFailed(txn), TransactionTimeout)  # handled as a timeout
    assert txn.state == "terminated" and layer.next_timer() is None
    assert layer.transport_error(txn) == []


def test_transport_failed_ends_only_the_transactions_to_that_peer_over_that_transport() -> None:
    layer = TransactionLayer()
    invite = layer.send_request(request("INVITE", "TCP"), B_ADDR, "TCP", 0.0)
    options = layer.send_request(request("OPTIONS", "TCP", 2), B_ADDR, "TCP", 0.0)
    over_udp = layer.send_request(request("OPTIONS", "UDP", 3), B_ADDR, "UDP", 0.0)
    elsewhere = layer.send_request(request("OPTIONS", "TCP", 4), A_ADDR, "TCP", 0.0)
    events = layer.transport_failed(B_ADDR, "tcp")
    assert events == [TransportFailed(invite), TransportFailed(options)]
    assert invite.state == options.state == "terminated"
    assert over_udp.state == "trying" and elsewhere.state == "trying"
    assert layer.transport_failed(B_ADDR, "tcp") == []


def test_ack_to_2xx_reusing_invite_branch_still_reaches_user() -> None:
    net = Net()
    txn, got = net.call("INVITE")
    net.b.send_2xx(got.txn, build_response(got.request, 200, to_tag="b"), 0.0)
    net.pump()
    bad_ack = SipRequest("ACK", txn.request.uri, txn.request.headers.copy())  # same branch: a broken UA
    bad_ack.headers.set("CSeq", "1 ACK")
    net.a.send_stateless(bad_ack, B_ADDR, "UDP")
    net.pump()
    assert [e.request.method for e in only(net.events_b, RequestReceived)] == ["INVITE", "ACK"]
    net.run_until(40)
    assert net.times("b", "200") == [0.0] and not only(net.events_b, AckTimeout)


def test_second_final_response_is_ignored() -> None:
    net = Net()
    net.a.send_request(request("OPTIONS"), B_ADDR, "UDP", 0.0)
    net.pump()
    [got] = only(net.events_b, RequestReceived)
    net.b.send_response(got.txn, build_response(got.request, 200, to_tag="b"), 0.0)
    net.answer(got, 500, 0.0)
    assert net.times("b", "200") == [0.0] and net.times("b", "500") == []


def test_stray_response_is_dropped() -> None:
    layer = TransactionLayer()
    req = request("OPTIONS")
    assert layer.receive(build_response(req, 200), B_ADDR, "UDP", 0.0) == []
    assert layer.next_timer() is None and layer.datagrams_to_send() == []


def test_send_request_rejects_ack_and_missing_branch() -> None:
    layer = TransactionLayer()
    with pytest.raises(ValueError, match="ACK has no client transaction"):
        layer.send_request(request("ACK"), B_ADDR, "UDP", 0.0)
    req = request("OPTIONS")
    req.headers.set("Via", "SIP/2.0/UDP 127.0.0.1:5061")
    with pytest.raises(ValueError, match="top Via with a branch"):
        layer.send_request(req, B_ADDR, "UDP", 0.0)


def test_user_data_slot_and_custom_timers() -> None:
    net = Net(a=TransactionLayer(t1=0.1, t2=0.4), drop={"a:OPTIONS"})
    txn = net.a.send_request(request("OPTIONS"), B_ADDR, "UDP", 0.0)
    txn.user_data = {"leg": "trunk"}
    net.pump()
    net.run_until(10)
    assert net.times("a", "OPTIONS")[:6] == pytest.approx([0.0, 0.1, 0.3, 0.7, 1.1, 1.5])
    assert net.events_a[0].txn.user_data == {"leg": "trunk"}
    assert net.events_a[0].txn is txn and txn.addr == B_ADDR and txn.transport == "UDP"


@dataclass
class LossyNet(Net):
    """Drops datagrams according to a fixed pattern (True = lost), cycling through it."""

    pattern: list[bool] = field(default_factory=lambda: [False])
    count: int = 0

    def is_lost(self, side: str, kind: str) -> bool:
        self.count += 1
        return self.pattern[(self.count - 1) % len(self.pattern)]


@settings(max_examples=150, deadline=None)
@given(
    pattern=st.lists(st.booleans(), min_size=1, max_size=12),
    final=st.sampled_from([200, 486]),
    answer_at=st.sampled_from([0.0, 0.7, 5.0]),
    method=st.sampled_from(["INVITE", "BYE"]),
)
def test_any_loss_pattern_ends_cleanly(
    pattern: list[bool], final: int, answer_at: float, method: str
) -> None:
    """Whatever is lost, both layers end with no transactions and no timers, the UAS user
    sees the request at most once, and the UAC user learns one outcome."""
    net = LossyNet(pattern=pattern)
    txn = net.a.send_request(request(method), B_ADDR, "UDP", 0.0)
    net.pump()
    net.run_until(answer_at)
    handled: set[int] = set()
    for _ in range(400):  # bounded: each round fires at least one timer
        for event in [*net.events_a, *net.events_b]:
            if id(event) in handled:
                continue
            handled.add(id(event))
            if isinstance(event, RequestReceived) and event.request.method == method:  # B's user
                net.b.send_response(event.txn, build_response(event.request, final, to_tag="b"), net.now)
            elif isinstance(event, ResponseReceived) and event.response.status == 200 and method == "INVITE":
                ack = request("ACK")
                ack.headers.set("To", event.response.headers.get("To"))
                net.a.send_stateless(ack, B_ADDR, "UDP")
        net.pump()
        nxt = [d for d in (net.a.next_timer(), net.b.next_timer()) if d is not None]
        if not nxt:
            break
        net.run_until(min(nxt))
    assert net.now < 100  # 64*T1 timeouts plus timer D/I/K tails at most
    assert net.a.transactions == [] and net.b.transactions == []
    assert net.a.next_timer() is None and net.b.next_timer() is None
    invites = [e for e in only(net.events_b, RequestReceived) if e.request.method == method]
    assert len(invites) <= 1  # retransmissions never reach the user twice
    finals = {e.response.status for e in only(net.events_a, ResponseReceived) if e.response.status >= 200}
    assert finals <= {final}
    # Either the outcome arrived or the transaction timed out, and the UAS agrees.
    timed_out = only(net.events_a, TransactionTimeout) == [TransactionTimeout(txn)]
    assert bool(finals) != timed_out or (final == 200 and finals == {200})
    if method == "INVITE" and final == 486 and invites and not timed_out:
        acked = not only(net.events_b, TransactionTimeout)
        assert acked or net.times("a", "ACK")  # timer H only fires when every ACK was lost


def test_timer_heap_tracks_many_transactions_and_forgets_ended_ones() -> None:
    """The next deadline comes from a heap, not a scan: answered transactions' timers stop
    counting at once (lazy deletion), and a stale heap entry keeps no transaction alive."""
    import gc
    import weakref

    layer = TransactionLayer()
    txns = [
        layer.send_request(request("OPTIONS", cseq=i + 1), B_ADDR, "UDP", i * 0.01) for i in range(200)
    ]
    assert layer.next_timer() == pytest.approx(0.5)  # the first one's timer E
    ended = weakref.ref(txns[0])
    for txn in txns[:150]:  # answered: timers E and F are cleared, K (T4 = 5 s) runs
        resp = build_response(txn.request, 200, to_tag="b")
        layer.receive(resp, B_ADDR, "UDP", 1.0)
    layer.datagrams_to_send()
    assert layer.next_timer() == pytest.approx(150 * 0.01 + 0.5)  # the first unanswered
    events = layer.handle_timer(6.5)  # every K fired; each unanswered one retransmitted once
    assert events == [] and all(t.state == "terminated" for t in txns[:150])
    assert len(layer.datagrams_to_send()) == 50
    del txns[:150], resp, txn
    gc.collect()
    assert ended() is None
    assert layer.next_timer() == pytest.approx(6.5 + 1.0)  # E re-armed at twice T1


def test_timer_c_cancels_an_invite_that_rings_without_a_final_answer() -> None:
    """RFC 3261 §16.7: Timer C (> 3 min) runs from the INVITE, each 101-199 resets it; when
    it fires the layer CANCELs the INVITE and tells the user, who ends the call."""
    net = Net()
    invite, got = net.call("INVITE")
    net.answer(got, 180, 0.0)
    net.run_until(100.0)
    net.answer(got, 183, 100.0)  # a provisional restarts the 185 s
    net.run_until(284.0)
    assert only(net.events_a, ProvisionalTimeout) == [] and net.times("a", "CANCEL") == []
    net.run_until(285.0)
    assert only(net.events_a, ProvisionalTimeout) == [ProvisionalTimeout(invite)]
    assert net.times("a", "CANCEL") == [285.0]
    net.answer(got, 487, 285.1)  # the phone or carrier gives up as asked
    assert [e.response.status for e in only(net.events_a, ResponseReceived)][-1] == 487
    assert invite.state == "completed" and only(net.events_a, TransactionTimeout) == []


def test_timer_c_is_not_reset_by_100_trying_and_the_invite_ends_if_the_cancel_goes_unanswered() -> None:
    net = Net(drop={"b:*"})
    layer_a = TransactionLayer(timer_c=200.0)
    net.a = layer_a
    invite = net.a.send_request(request("INVITE"), B_ADDR, "UDP", 0.0)
    net.pump()
    trying = build_response(invite.request, 100)
    net.events_a += net.a.receive(trying, B_ADDR, "UDP", 0.5)  # stops Timer A/B, not C
    net.run_until(200.0)
    assert only(net.events_a, ProvisionalTimeout) == [ProvisionalTimeout(invite)]
    assert net.times("a", "CANCEL")[0] == 200.0
    net.run_until(240.0)  # the peer is gone: 64*T1 later the INVITE ends as a timeout
    ended = {e.txn.method for e in only(net.events_a, TransactionTimeout)}
    assert ended == {"INVITE", "CANCEL"}
    assert invite.state == "terminated" and net.a.next_timer() is None


def test_timer_c_stops_at_the_final_answer() -> None:
    net = Net()
    _, got = net.call("INVITE")
    net.answer(got, 180, 0.0)
    net.answer(got, 200, 10.0)
    net.a.ack_received("call-1@127.0.0.1", 1)
    net.run_until(400.0)
    assert only(net.events_a, ProvisionalTimeout) == [] and net.times("a", "CANCEL") == []
