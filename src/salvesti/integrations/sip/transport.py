"""The asyncio side of SIP: UDP, TCP and outgoing TLS sockets around the sans-IO transaction layer.

Bytes in → ``parse_message`` → ``TransactionLayer.receive`` → events to the handler;
whatever the layer queues goes out; one ``call_at`` timer follows ``next_timer``.  Nothing
a peer sends may crash or stall it: a datagram that does not parse is answered 400 when
enough of it is readable to address an answer, else dropped; a TCP stream that turns to
garbage is closed.  Handler errors are logged and the next datagram is served as usual.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

from salvesti.core.protocols.sip.errors import SipParseError
from salvesti.core.protocols.sip.events import TransactionEvent
from salvesti.core.protocols.sip.message import (
    SipRequest,
    SipResponse,
    StreamParser,
    is_keepalive,
    parse_message,
)
from salvesti.core.protocols.sip.transaction import ClientTransaction, ServerTransaction, TransactionLayer
from salvesti.integrations.sip.tls import TlsPeers

_LOGGER = logging.getLogger(__name__)

Addr = tuple[str, int]
EventHandler = Callable[[TransactionEvent], None]

_REQUEST_LINE = re.compile(r"^([A-Za-z]+) +\S+ +SIP/2\.0$", re.IGNORECASE)
_NEEDED = {"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To"}
_NEEDED.update({"call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"})


def bad_request_reply(data: bytes, reason: str) -> bytes | None:
    """A 400 for a request that failed to parse, if its Via/From/To/Call-ID/CSeq can be read.

    Answering lets a buggy phone's developer see why; a datagram that is not a request
    (or an ACK, which is never answered) gets nothing.
    """
    text = data.decode("latin-1", "replace")
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    lines = re.split(r"\r?\n", head.lstrip("\r\n"))
    m = _REQUEST_LINE.match(lines[0].strip()) if lines else None
    if not m or m.group(1).upper() == "ACK":
        return None
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        canonical = _NEEDED.get(name.strip().lower())
        if sep and canonical and value.strip():
            found.setdefault(canonical, []).append(value.strip())
    if any(n not in found for n in ("Via", "From", "To", "Call-ID", "CSeq")):
        return None
    safe = re.sub(r"[^\x20-\x7e]", "?", reason)[:100]
    out = ["SIP/2.0 400 Bad Request"]
    out += [f"Via: {v}" for v in found["Via"]]
    out += [f"{n}: {found[n][0]}" for n in ("From", "To", "Call-ID", "CSeq")]
    out += [f'Warning: 399 salvesti "{safe}"', "Content-Length: 0"]
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1", "replace")


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.owner._on_data(data, (addr[0], addr[1]), "udp")

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("%s: udp error: %s", self.owner.label, exc)


class SipTransport:
    """One listening address (UDP and TCP) and the transaction layer behind it."""

    def __init__(self, host: str, port: int, handler: EventHandler, *, label: str = "sip") -> None:
        self.host = host
        self.port = port
        self.handler = handler
        self.label = label
        self.layer = TransactionLayer()
        self.garbage = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._tcp: dict[Addr, asyncio.StreamWriter] = {}
        self._tcp_pending: dict[Addr, list[bytes]] = {}
        #: Outgoing TLS connections (to carriers only, see ``tls.py``), reused both ways.
        self.tls = TlsPeers()
        self._tls: dict[Addr, asyncio.StreamWriter] = {}
        self._tls_pending: dict[Addr, list[bytes]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # uvloop's call_at with a deadline already past returns a plain Handle with no when():
        # the deadline the timer was armed for is kept here instead.
        self._timer: asyncio.Handle | None = None
        self._timer_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(self), local_addr=(self.host, self.port)
        )
        self._udp = transport  # type: ignore[assignment]
        self.port = transport.get_extra_info("sockname")[1]
        try:
            self._server = await asyncio.start_server(self._serve_tcp, self.host, self.port)
        except OSError:
            transport.close()
            raise

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._server is not None:
            self._server.close()
        for writer in [*self._tcp.values(), *self._tls.values()]:
            writer.close()
        self._tcp.clear()
        self._tls.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            except TimeoutError:
                pass
            self._server = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    def now(self) -> float:
        loop = self._loop or asyncio.get_running_loop()
        return loop.time()

    # -- sending -------------------------------------------------------------------------------
    def send_request(self, request: SipRequest, addr: Addr, transport: str = "udp") -> ClientTransaction:
        txn = self.layer.send_request(request, addr, transport, self.now())
        self._flush()
        return txn

    def send_response(self, txn: ServerTransaction, response: SipResponse) -> None:
        self.layer.send_response(txn, response, self.now())
        self._flush()

    def send_stateless(self, msg: SipRequest | SipResponse, addr: Addr, transport: str = "udp") -> None:
        self.layer.send_stateless(msg, addr, transport)
        self._flush()

    def cancel(self, txn: ClientTransaction) -> ClientTransaction:
        cancel = self.layer.cancel(txn, self.now())
        self._flush()
        return cancel

    def ack_received(self, call_id: str, cseq: int) -> None:
        self.layer.ack_received(call_id, cseq)
        self._flush()

    def send_raw(self, data: bytes, addr: Addr, transport: str = "udp") -> None:
        """Bytes outside SIP (a CRLF keep-alive)."""
        self._write(data, addr, transport)

    def _flush(self) -> None:
        for data, addr, transport in self.layer.datagrams_to_send():
            self._write(data, addr, transport)
        self._arm_timer()

    def _write(self, data: bytes, addr: Addr, transport: str) -> None:
        kind = transport.lower()
        if kind in ("tcp", "tls"):
            tcp = kind == "tcp"
            streams, waiting = (self._tcp, self._tcp_pending) if tcp else (self._tls, self._tls_pending)
            writer = streams.get(addr)
            if writer is not None and not writer.is_closing():
                writer.write(data)
                return
            pending = waiting.setdefault(addr, [])
            pending.append(data)
            if len(pending) == 1:
                self._spawn(self._connect(addr) if kind == "tcp" else self._connect_tls(addr))
            return
        if self._udp is not None:
            self._udp.sendto(data, addr)

    async def _connect(self, addr: Addr) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(addr[0], addr[1]), 5.0)
        except (OSError, TimeoutError) as err:
            _LOGGER.warning("%s: cannot connect to %s:%s over tcp: %s", self.label, *addr, err)
            self._tcp_pending.pop(addr, None)
            # The requests queued for it were never sent: their transactions end now
            # (the user sees a timeout, i.e. 503), not after Timer B's 32 s.
            self._dispatch(self.layer.transport_failed(addr, "tcp"))
            return
        for data in self._tcp_pending.pop(addr, []):
            writer.write(data)
        await self._read_stream(reader, writer, addr)

    async def _connect_tls(self, addr: Addr) -> None:
        """Open (or reopen, after the carrier closed it) the verified connection to ``addr``."""
        try:
            reader, writer = await self.tls.open(addr)
        except OSError as err:
            _LOGGER.warning("%s: %s:%s: %s", self.label, *addr, err)
            self._tls_pending.pop(addr, None)
            self._dispatch(self.layer.transport_failed(addr, "tls"))
            return
        for data in self._tls_pending.pop(addr, []):
            writer.write(data)
        await self._read_stream(reader, writer, addr, "tls")

    # -- receiving -----------------------------------------------------------------------------
    def _on_data(self, data: bytes, addr: Addr, transport: str) -> None:
        if is_keepalive(data):
            return
        try:
            msg = parse_message(data)
        except SipParseError as err:
            self._garbage(data, addr, transport, str(err))
            return
        except Exception as err:  # a parser bug must not take the port down
            self._garbage(data, addr, transport, f"unparseable: {type(err).__name__}")
            return
        self._receive(msg, addr, transport)

    def _garbage(self, data: bytes, addr: Addr, transport: str, reason: str) -> None:
        self.garbage += 1
        _LOGGER.debug("%s: bad message from %s:%s: %s", self.label, addr[0], addr[1], reason)
        reply = bad_request_reply(data, reason)
        if reply is not None:
            self._write(reply, addr, transport)

    def _receive(self, msg: SipRequest | SipResponse, addr: Addr, transport: str) -> None:
        try:
            events = self.layer.receive(msg, addr, transport, self.now())
        except SipParseError as err:
            self._garbage(msg.to_bytes(), addr, transport, str(err))
            return
        except Exception:
            _LOGGER.exception("%s: transaction layer failed on a message from %s", self.label, addr)
            return
        self._dispatch(events)

    def _dispatch(self, events: list[TransactionEvent]) -> None:
        for event in events:
            try:
                self.handler(event)
            except Exception:
                _LOGGER.exception("%s: handling %s failed", self.label, type(event).__name__)
        self._flush()

    # -- tcp -------------------------------------------------------------------------------------
    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        await self._read_stream(reader, writer, (peer[0], peer[1]))

    async def _read_stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, addr: Addr, kind: str = "tcp"
    ) -> None:
        streams = self._tls if kind == "tls" else self._tcp
        streams[addr] = writer
        parser = StreamParser()
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                try:
                    messages = parser.feed(chunk)
                except SipParseError as err:
                    _LOGGER.info("%s: closing tcp from %s:%s: %s", self.label, *addr, err)
                    self.garbage += 1
                    break
                for msg in messages:
                    self._receive(msg, addr, kind)
        except (ConnectionError, OSError):
            pass
        finally:
            if streams.get(addr) is writer:
                del streams[addr]
            writer.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.label} tcp")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- timer ------------------------------------------------------------------------------------
    def _arm_timer(self) -> None:
        deadline = self.layer.next_timer()
        if self._timer is not None:
            if deadline is not None and abs(self._timer_at - deadline) < 1e-4:
                return
            self._timer.cancel()
            self._timer = None
        if deadline is not None and self._loop is not None:
            self._timer, self._timer_at = self._loop.call_at(deadline, self._on_timer), deadline

    def _on_timer(self) -> None:
        self._timer = None
        try:
            events = self.layer.handle_timer(self.now())
        except Exception:
            _LOGGER.exception("%s: timer handling failed", self.label)
            events = []
        self._dispatch(events)
