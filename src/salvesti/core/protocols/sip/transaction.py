"""RFC 3261 §17 transaction layer, sans-IO (with the RFC 6026 "Accepted" states).

The user feeds parsed messages with ``receive`` and the clock with ``handle_timer``;
the layer returns events, queues bytes for ``datagrams_to_send`` and reports one
deadline through ``next_timer``. It retransmits over UDP only, absorbs request
retransmissions and ACKs to non-2xx answers, answers CANCEL itself, and also keeps
retransmitting 2xx answers to INVITE until the ACK comes (strictly the TU's job,
§13.3.1.4, but every TU needs it, so it lives here once).

Responses go back to the address the request came from (symmetric response routing,
RFC 3581 style), which is what works behind NAT, and the top Via gets ``received``
and ``rport`` filled in.
"""

from __future__ import annotations

import heapq
import itertools
import weakref
from dataclasses import dataclass, field
from typing import Any

from .events import (
    AckTimeout,
    CancelReceived,
    ProvisionalTimeout,
    RequestReceived,
    ResponseReceived,
    TransactionEvent,
    TransactionTimeout,
    TransportFailed,
)
from .headers import Headers
from .message import SipRequest, SipResponse, build_response

Addr = tuple[str, int]
MAGIC_COOKIE = "z9hG4bK"
#: Timer C: "MUST be set for greater than 3 minutes" (RFC 3261 §16.6 step 11).
TIMER_C = 185.0


def is_reliable(transport: str) -> bool:
    return transport.lower() != "udp"


class _Timers(dict[str, float]):
    """A transaction's running timers (name -> deadline) that also file each deadline in
    the layer's heap, so finding the next one costs O(log n), not a scan of every
    transaction (which at a few hundred calls was a measurable share of the loop).

    Clearing or popping a timer leaves its heap entry behind; the layer drops such stale
    entries when they surface (lazy deletion), comparing the entry with the live deadline.
    The transaction is held weakly, so a stale entry never keeps an ended one (and its
    messages) alive until its old deadline.
    """

    __slots__ = ("_heap", "_owner")

    def __init__(self) -> None:
        super().__init__()
        self._heap: list[tuple[float, int, _Timers, str]] | None = None
        self._owner: weakref.ref[_Transaction] | None = None

    def attach(self, heap: list[tuple[float, int, _Timers, str]], owner: _Transaction) -> None:
        self._heap, self._owner = heap, weakref.ref(owner)
        for name, deadline in self.items():
            heapq.heappush(heap, (deadline, next(_SEQ), self, name))

    def __setitem__(self, name: str, deadline: float) -> None:
        super().__setitem__(name, deadline)
        if self._heap is not None:
            heapq.heappush(self._heap, (deadline, next(_SEQ), self, name))

    def live(self, name: str, deadline: float) -> bool:
        return self.get(name) == deadline

    @property
    def owner(self) -> _Transaction | None:
        return self._owner() if self._owner is not None else None


_SEQ = itertools.count()


@dataclass(eq=False)
class _Transaction:
    request: SipRequest
    addr: Addr
    transport: str
    key: tuple[Any, ...]
    state: str
    user_data: Any = None
    timers: _Timers = field(default_factory=_Timers)
    interval: float = 0.0

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def reliable(self) -> bool:
        return is_reliable(self.transport)

    @property
    def branch(self) -> str | None:
        return self.request.via.branch


@dataclass(eq=False)
class ClientTransaction(_Transaction):
    """Our request and its fate. States: calling/trying, proceeding, completed,
    accepted (INVITE after 2xx), terminated."""

    last_response: SipResponse | None = None
    ack: SipRequest | None = None
    pending_cancel: ClientTransaction | None = None


@dataclass(eq=False)
class ServerTransaction(_Transaction):
    """A request we received. States: trying, proceeding, completed, confirmed,
    accepted (INVITE after 2xx), terminated."""

    last_response: SipResponse | None = None
    last_bytes: bytes | None = None


@dataclass(eq=False)
class _OkRetransmitter:
    data: bytes
    addr: Addr
    transport: str
    next_at: float | None
    interval: float
    deadline: float


def _client_key(branch: str | None, cseq_method: str) -> tuple[Any, ...]:
    return (branch, cseq_method)


def _server_key(request: SipRequest, method: str) -> tuple[Any, ...]:
    """RFC 3261 §17.2.3; for pre-3261 peers (no magic cookie) fall back to §17.2.3's
    older rule built from Call-ID, From tag, CSeq number and top Via."""
    via = request.via
    branch = via.branch
    if branch and branch.startswith(MAGIC_COOKIE):
        return (branch, via.host.lower(), via.port, method)
    return (request.call_id, request.from_addr.tag, request.cseq[0], str(via), method)


class TransactionLayer:
    """All client and server transactions of one SIP endpoint."""

    def __init__(
        self,
        *,
        t1: float = 0.5,
        t2: float = 4.0,
        t4: float = 5.0,
        timer_c: float = TIMER_C,
        auto_trying: bool = True,
    ):
        self.t1, self.t2, self.t4 = t1, t2, t4
        #: A B2BUA forwards INVITEs as a proxy does, so a peer that rings for ever (or sends
        #: only 100 Trying) must not hold the call for ever: see ``ProvisionalTimeout``.
        self.timer_c = timer_c
        self.auto_trying = auto_trying
        self._client: dict[tuple[Any, ...], ClientTransaction] = {}
        self._server: dict[tuple[Any, ...], ServerTransaction] = {}
        self._oks: dict[tuple[str, int], _OkRetransmitter] = {}
        self._out: list[tuple[bytes, Addr, str]] = []
        self._heap: list[tuple[float, int, _Timers, str]] = []

    # ------------------------------------------------------------------ output
    def datagrams_to_send(self) -> list[tuple[bytes, Addr, str]]:
        """Everything queued since the last call, as (data, addr, transport)."""
        out, self._out = self._out, []
        return out

    def send_stateless(self, msg: SipRequest | SipResponse, addr: Addr, transport: str) -> None:
        """Queue a message outside any transaction (the ACK to a 2xx, RFC 3261 §13.2.2.4)."""
        self._out.append((msg.to_bytes(), addr, transport))

    def _adopt(self, txn: _Transaction) -> None:
        txn.timers.attach(self._heap, txn)

    def next_timer(self) -> float | None:
        heap = self._heap
        while heap and not heap[0][2].live(heap[0][3], heap[0][0]):
            heapq.heappop(heap)
        deadlines = [heap[0][0]] if heap else []
        for ok in self._oks.values():
            deadlines.append(ok.deadline)
            if ok.next_at is not None:
                deadlines.append(ok.next_at)
        return min(deadlines) if deadlines else None

    @property
    def transactions(self) -> list[_Transaction]:
        return list(self._all())

    def _all(self) -> list[_Transaction]:
        return [*self._client.values(), *self._server.values()]

    # ------------------------------------------------------------------ client side
    def send_request(self, req: SipRequest, addr: Addr, transport: str, now: float) -> ClientTransaction:
        """Start a client transaction for ``req`` (which must carry our top Via with a
        fresh branch). ACK is not a transaction: use ``send_stateless`` for it."""
        if req.method == "ACK":
            raise ValueError("ACK has no client transaction; use send_stateless()")
        branch = req.via.branch
        if not branch:
            raise ValueError("request needs a top Via with a branch parameter")
        state = "calling" if req.method == "INVITE" else "trying"
        txn = ClientTransaction(req, addr, transport, _client_key(branch, req.method), state)
        self._adopt(txn)
        self._client[txn.key] = txn
        self._start_client(txn, now)
        return txn

    def _start_client(self, txn: ClientTransaction, now: float) -> None:
        self._out.append((txn.request.to_bytes(), txn.addr, txn.transport))
        retransmit, timeout = ("A", "B") if txn.method == "INVITE" else ("E", "F")
        if not txn.reliable:
            txn.interval = self.t1
            txn.timers[retransmit] = now + self.t1
        txn.timers[timeout] = now + 64 * self.t1
        if txn.method == "INVITE":
            txn.timers["C"] = now + self.timer_c

    def cancel(self, invite_txn: ClientTransaction, now: float) -> ClientTransaction:
        """CANCEL a pending INVITE (RFC 3261 §9.1). Sent at once if a provisional answer
        came, else held until one does. After a final answer there is nothing to cancel:
        the returned transaction is then already 'terminated' and nothing is sent."""
        inv = invite_txn.request
        h = Headers()
        h.add("Via", inv.headers.get_all("Via")[0])
        for route in inv.headers.get_all("Route"):
            h.add("Route", route)
        for name in ("From", "To", "Call-ID"):
            h.add(name, inv._required(name))
        h.add("CSeq", f"{inv.cseq[0]} CANCEL")
        h.add("Max-Forwards", "70")
        req = SipRequest("CANCEL", inv.uri, h)
        txn = ClientTransaction(
            req, invite_txn.addr, invite_txn.transport, (inv.via.branch, "CANCEL"), "trying"
        )
        self._adopt(txn)
        if invite_txn.state == "proceeding":
            self._client[txn.key] = txn
            self._start_client(txn, now)
        elif invite_txn.state == "calling":
            self._client[txn.key] = txn
            invite_txn.pending_cancel = txn
        else:
            txn.state = "terminated"
        return txn

    def _ack_for_non2xx(self, txn: ClientTransaction, resp: SipResponse) -> SipRequest:
        """RFC 3261 §17.1.1.3: same Request-URI, Call-ID, From, top Via and Route as the
        INVITE, the To of the response (with its tag), CSeq method ACK."""
        inv = txn.request
        h = Headers()
        h.add("Via", inv.headers.get_all("Via")[0])
        for route in inv.headers.get_all("Route"):
            h.add("Route", route)
        h.add("From", inv._required("From"))
        h.add("To", resp._required("To"))
        h.add("Call-ID", inv._required("Call-ID"))
        h.add("CSeq", f"{inv.cseq[0]} ACK")
        h.add("Max-Forwards", "70")
        return SipRequest("ACK", inv.uri, h)

    def _receive_response(self, resp: SipResponse, now: float) -> list[TransactionEvent]:
        txn = self._client.get(_client_key(resp.via.branch, resp.cseq[1]))
        if txn is None or txn.state == "terminated":
            return []
        status = resp.status
        if txn.method == "INVITE":
            return self._invite_client_response(txn, resp, status, now)
        if status < 200:
            if txn.state in ("trying", "proceeding"):
                txn.state = "proceeding"
                return [ResponseReceived(txn, resp)]
            return []
        if txn.state not in ("trying", "proceeding"):
            return []
        txn.state = "completed"
        txn.last_response = resp
        txn.timers.clear()
        if txn.reliable:
            self._terminate(txn)
        else:
            txn.timers["K"] = now + self.t4
        return [ResponseReceived(txn, resp)]

    def _invite_client_response(
        self, txn: ClientTransaction, resp: SipResponse, status: int, now: float
    ) -> list[TransactionEvent]:
        if status < 200:
            if txn.state not in ("calling", "proceeding"):
                return []
            txn.state = "proceeding"
            txn.timers.pop("A", None)
            txn.timers.pop("B", None)
            if status > 100:  # §16.7: 101-199 reset Timer C, a 100 Trying does not
                txn.timers["C"] = now + self.timer_c
            if txn.pending_cancel is not None:
                cancel, txn.pending_cancel = txn.pending_cancel, None
                self._start_client(cancel, now)
            return [ResponseReceived(txn, resp)]
        if status < 300:
            if txn.state in ("calling", "proceeding"):
                self._drop_pending_cancel(txn)
                txn.state = "accepted"
                txn.last_response = resp
                txn.timers.clear()
                txn.timers["M"] = now + 64 * self.t1
                return [ResponseReceived(txn, resp)]
            if txn.state == "accepted":
                return [ResponseReceived(txn, resp)]
            return []
        if txn.state in ("calling", "proceeding"):
            self._drop_pending_cancel(txn)
            txn.state = "completed"
            txn.last_response = resp
            txn.ack = self._ack_for_non2xx(txn, resp)
            self._out.append((txn.ack.to_bytes(), txn.addr, txn.transport))
            txn.timers.clear()
            if txn.reliable:
                self._terminate(txn)
            else:
                txn.timers["D"] = now + 32.0
            return [ResponseReceived(txn, resp)]
        if txn.state == "completed" and txn.ack is not None:
            self._out.append((txn.ack.to_bytes(), txn.addr, txn.transport))
        return []

    def _drop_pending_cancel(self, txn: ClientTransaction) -> None:
        if txn.pending_cancel is not None:
            self._terminate(txn.pending_cancel)
            txn.pending_cancel = None

    # ------------------------------------------------------------------ server side
    def receive(
        self, msg: SipRequest | SipResponse, addr: Addr, transport: str, now: float
    ) -> list[TransactionEvent]:
        """Feed one parsed message that arrived from ``addr`` over ``transport``."""
        if isinstance(msg, SipResponse):
            return self._receive_response(msg, now)
        self._stamp_via(msg, addr)
        if msg.method == "ACK":
            return self._receive_ack(msg, addr, transport, now)
        key = _server_key(msg, msg.method)
        txn = self._server.get(key)
        if txn is not None:  # a retransmission
            if txn.last_bytes is not None and txn.state in ("proceeding", "completed"):
                self._out.append((txn.last_bytes, txn.addr, txn.transport))
            return []
        state = "proceeding" if msg.method == "INVITE" else "trying"
        txn = ServerTransaction(msg, addr, transport, key, state)
        self._adopt(txn)
        self._server[key] = txn
        if msg.method == "CANCEL":
            return self._receive_cancel(txn, now)
        if msg.method == "INVITE" and self.auto_trying:
            self.send_response(txn, build_response(msg, 100), now)
        return [RequestReceived(txn, msg, addr, transport)]

    @staticmethod
    def _stamp_via(msg: SipRequest, addr: Addr) -> None:
        """RFC 3261 §18.2.1 received=, RFC 3581 rport=: remember where it really came from."""
        via = msg.via
        changed = False
        if "rport" in via.params and via.params["rport"] is None:
            # RFC 3581 §4: with rport, received= is added even when it equals sent-by.
            via.params["rport"] = str(addr[1])
            via.params["received"] = addr[0]
            changed = True
        elif via.host != addr[0]:
            via.params["received"] = addr[0]
            changed = True
        if changed:
            msg.headers.remove_first("Via")
            msg.headers.add("Via", str(via), first=True)

    def _receive_ack(self, msg: SipRequest, addr: Addr, transport: str, now: float) -> list[TransactionEvent]:
        txn = self._server.get(_server_key(msg, "INVITE"))
        if txn is not None and txn.state in ("completed", "confirmed"):
            if txn.state == "completed":  # ACK to our non-2xx: absorb, never to the TU
                txn.state = "confirmed"
                txn.timers.clear()
                if txn.reliable:
                    self._terminate(txn)
                else:
                    txn.timers["I"] = now + self.t4
            return []
        self.ack_received(msg.call_id, msg.cseq[0])
        return [RequestReceived(None, msg, addr, transport)]

    def _receive_cancel(self, cancel_txn: ServerTransaction, now: float) -> list[TransactionEvent]:
        cancel = cancel_txn.request
        invite = self._server.get(_server_key(cancel, "INVITE"))
        if invite is None:
            self.send_response(cancel_txn, build_response(cancel, 481), now)
            return []
        self.send_response(cancel_txn, build_response(cancel, 200), now)
        if invite.state == "proceeding":
            return [CancelReceived(invite, cancel)]
        return []

    def send_response(self, txn: ServerTransaction, resp: SipResponse, now: float) -> None:
        """Send ``resp`` in ``txn``. A 2xx to INVITE is retransmitted until its ACK
        (same as ``send_2xx``); a later final answer after a final one is ignored."""
        if txn.state in ("completed", "confirmed", "accepted", "terminated"):
            return
        if txn.method == "INVITE" and 200 <= resp.status < 300:
            self.send_2xx(txn, resp, now)
            return
        data = resp.to_bytes()
        txn.last_response, txn.last_bytes = resp, data
        self._out.append((data, txn.addr, txn.transport))
        if resp.status < 200:
            txn.state = "proceeding"
            return
        txn.state = "completed"
        txn.timers.clear()
        if txn.method == "INVITE":
            if not txn.reliable:
                txn.interval = self.t1
                txn.timers["G"] = now + self.t1
            txn.timers["H"] = now + 64 * self.t1
        elif txn.reliable:
            self._terminate(txn)
        else:
            txn.timers["J"] = now + 64 * self.t1

    def send_2xx(self, txn: ServerTransaction, resp: SipResponse, now: float) -> None:
        """Send a 2xx to INVITE and retransmit it (T1 doubling to T2, UDP only) until
        ``ack_received`` for its Call-ID and CSeq, or emit AckTimeout after 64*T1."""
        if txn.method != "INVITE":
            self.send_response(txn, resp, now)
            return
        data = resp.to_bytes()
        txn.last_response, txn.last_bytes = resp, data
        txn.state = "accepted"
        txn.timers.clear()
        txn.timers["L"] = now + 64 * self.t1
        self._out.append((data, txn.addr, txn.transport))
        next_at = None if txn.reliable else now + self.t1
        key = (resp.call_id, resp.cseq[0])
        self._oks[key] = _OkRetransmitter(data, txn.addr, txn.transport, next_at, self.t1, now + 64 * self.t1)

    def ack_received(self, call_id: str, cseq: int) -> bool:
        """Stop retransmitting the 2xx for this INVITE; True if one was pending."""
        return self._oks.pop((call_id.strip(), cseq), None) is not None

    def transport_error(self, txn: _Transaction) -> list[TransactionEvent]:
        """The transport could not deliver for ``txn`` (TCP connect refused, ICMP
        unreachable): end it at once and report it like a timeout (RFC 3261 §17.1.4,
        which the user treats as 503)."""
        if txn.state == "terminated":
            return []
        self._terminate(txn)
        return [TransportFailed(txn)]  # type: ignore[arg-type]

    def transport_failed(self, addr: Addr, transport: str) -> list[TransactionEvent]:
        """Nothing can reach ``addr`` over ``transport`` (a TCP connect refused or timed
        out): every client transaction waiting on it ends now, as ``transport_error`` ends
        one, instead of sitting out Timer B/F (32 s) on bytes that were never sent."""
        kind = transport.lower()
        doomed = [
            txn
            for txn in self._client.values()
            if txn.addr == addr and txn.transport.lower() == kind and txn.state != "terminated"
        ]
        events: list[TransactionEvent] = []
        for txn in doomed:
            events.extend(self.transport_error(txn))
        return events

    # ------------------------------------------------------------------ timers
    def handle_timer(self, now: float) -> list[TransactionEvent]:
        """Fire every timer due at ``now``; returns the resulting events."""
        events: list[TransactionEvent] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            deadline, _, timers, name = heapq.heappop(heap)
            txn = timers.owner
            if txn is None or txn.state == "terminated" or not timers.live(name, deadline):
                continue  # cleared, re-armed or ended since it was filed
            events.extend(self._fire(txn, name, now))
        for key, ok in list(self._oks.items()):
            if ok.deadline <= now:
                del self._oks[key]
                events.append(AckTimeout(*key))
            elif ok.next_at is not None and ok.next_at <= now:
                self._out.append((ok.data, ok.addr, ok.transport))
                ok.interval = min(ok.interval * 2, self.t2)
                ok.next_at = now + ok.interval
        return events

    def _fire(self, txn: _Transaction, name: str, now: float) -> list[TransactionEvent]:
        del txn.timers[name]
        if name in ("A", "E"):  # request retransmission
            self._out.append((txn.request.to_bytes(), txn.addr, txn.transport))
            if name == "A":
                txn.interval *= 2
            elif txn.state == "proceeding":
                txn.interval = self.t2
            else:
                txn.interval = min(txn.interval * 2, self.t2)
            txn.timers[name] = now + txn.interval
            return []
        if name == "G":  # non-2xx final response retransmission
            assert isinstance(txn, ServerTransaction) and txn.last_bytes is not None
            self._out.append((txn.last_bytes, txn.addr, txn.transport))
            txn.interval = min(txn.interval * 2, self.t2)
            txn.timers["G"] = now + txn.interval
            return []
        if name == "C":
            return self._timer_c(txn, now)
        self._terminate(txn)
        if name in ("B", "F", "H"):
            return [TransactionTimeout(txn)]  # type: ignore[arg-type]
        return []  # D, I, J, K, L, M: quiet end of the transaction

    def _timer_c(self, txn: _Transaction, now: float) -> list[TransactionEvent]:
        """Rang too long with no final answer: CANCEL it and give the peer 64*T1 to answer
        before the transaction ends quietly as a timeout (§16.8 would answer 408 for it)."""
        if not isinstance(txn, ClientTransaction) or txn.state not in ("calling", "proceeding"):
            return []
        self.cancel(txn, now)
        txn.timers["B"] = now + 64 * self.t1
        return [ProvisionalTimeout(txn)]

    def _terminate(self, txn: _Transaction) -> None:
        txn.state = "terminated"
        txn.timers.clear()
        table: dict[tuple[Any, ...], Any] = (
            self._client if isinstance(txn, ClientTransaction) else self._server
        )
        if table.get(txn.key) is txn:
            del table[txn.key]
        if isinstance(txn, ClientTransaction) and txn.pending_cancel is not None:
            self._terminate(txn.pending_cancel)
            txn.pending_cancel = None
