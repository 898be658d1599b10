"""The asyncio SIP transport on loopback: what a failed TCP connect does to a transaction."""

from __future__ import annotations

import asyncio
import socket

from salvesti.core.protocols.sip.events import TransactionEvent, TransportFailed
from salvesti.core.protocols.sip.headers import Headers
from salvesti.core.protocols.sip.message import SipRequest, make_via, new_tag
from salvesti.integrations.sip.transport import SipTransport


def closed_port() -> int:
    """A loopback TCP port nobody listens on (bound, then closed: connects are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def options(port: int, target: int) -> SipRequest:
    h = Headers()
    h.add("Via", make_via("tcp", "127.0.0.1", port))
    h.add("Max-Forwards", "70")
    h.add("From", f"<sip:salvesti@127.0.0.1>;tag={new_tag()}")
    h.add("To", "<sip:carrier@127.0.0.1>")
    h.add("Call-ID", f"{new_tag()}@127.0.0.1")
    h.add("CSeq", "1 OPTIONS")
    return SipRequest("OPTIONS", f"sip:carrier@127.0.0.1:{target};transport=tcp", h)


async def test_refused_tcp_connect_ends_the_client_transaction_at_once() -> None:
    """Before the fix the transaction waited out Timer F (32 s) for bytes never sent;
    now the refused connect reaches it as TransportFailed (a TransactionTimeout), which the B2BUA and the
    registration loop already treat as "no answer" (503 to a phone)."""
    seen: asyncio.Queue[TransactionEvent] = asyncio.Queue()
    transport = SipTransport("127.0.0.1", 0, seen.put_nowait, label="test")
    await transport.start()
    try:
        target = ("127.0.0.1", closed_port())
        txn = transport.send_request(options(transport.port, target[1]), target, "tcp")
        event = await asyncio.wait_for(seen.get(), 10)  # a bound far below Timer F's 32 s
        assert event == TransportFailed(txn)
        assert txn.state == "terminated"
        assert txn.timers == {} and transport.layer.transactions == []
    finally:
        await transport.stop()


def test_a_timer_already_due_on_uvloop_can_be_rearmed() -> None:
    """uvloop's ``call_at`` with a past deadline returns a Handle without ``when()``; arming
    the transport's timer again then raised AttributeError and failed the call being answered
    (seen at 200 concurrent calls on a loaded machine, bench/s3_upload.py)."""
    import uvloop

    async def go() -> None:
        transport = SipTransport("127.0.0.1", 0, lambda ev: None, label="test")
        await transport.start()
        try:
            loop = asyncio.get_running_loop()
            due = loop.time() - 1.0
            transport.layer.next_timer = lambda: due  # type: ignore[method-assign]
            transport._arm_timer()
            transport._arm_timer()  # same deadline: kept
            due -= 1.0
            transport._arm_timer()  # another deadline: re-armed, no AttributeError
            assert transport._timer is not None and transport._timer_at == due
        finally:
            await transport.stop()

    uvloop.run(go())
