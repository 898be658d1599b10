"""SIP dialog state (RFC 3261 §12): who we talk to and how to reach them in-dialog.

A B2BUA holds two of these per call, one per leg. The dialog builds in-dialog requests
(BYE, re-INVITE, ACK to 2xx) with the right CSeq, tags, Request-URI and Route set;
adding the top Via is left to the caller, who knows which local address it sends from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .headers import Headers
from .message import SipRequest, SipResponse
from .uri import Address


@dataclass
class Dialog:
    """State of one dialog. ``local_uri``/``remote_uri`` are From/To header values
    (their tag is replaced by ``local_tag``/``remote_tag`` when requests are built)."""

    call_id: str
    local_tag: str
    remote_tag: str | None
    local_uri: str
    remote_uri: str
    remote_target: str
    route_set: list[str] = field(default_factory=list)
    local_cseq: int = 0
    remote_cseq: int | None = None
    secure: bool = False

    @property
    def id(self) -> tuple[str, str, str | None]:
        return (self.call_id, self.local_tag, self.remote_tag)

    @classmethod
    def from_uac(cls, request: SipRequest, response: SipResponse) -> Dialog:
        """The dialog our request created (§12.1.2): route set is the response's
        Record-Route reversed, remote target its Contact."""
        contact = response.contact
        local_tag = request.from_addr.tag
        if local_tag is None:
            raise ValueError("a dialog-creating request must carry a From tag")
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=response.to_addr.tag,
            local_uri=request._required("From"),
            remote_uri=response._required("To"),
            remote_target=str(contact.uri) if contact else request.uri,
            route_set=list(reversed(response.headers.get_all("Record-Route"))),
            local_cseq=request.cseq[0],
            remote_cseq=None,
            secure=request.uri.lower().startswith("sips:"),
        )

    @classmethod
    def from_uas(cls, request: SipRequest, local_tag: str) -> Dialog:
        """The dialog a received request creates (§12.1.1): route set is its
        Record-Route in order, remote target its Contact."""
        contact = request.contact
        remote = request.from_addr
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=remote.tag,
            local_uri=request._required("To"),
            remote_uri=request._required("From"),
            remote_target=str(contact.uri) if contact else str(remote.uri),
            route_set=list(request.headers.get_all("Record-Route")),
            local_cseq=0,
            remote_cseq=request.cseq[0],
            secure=request.uri.lower().startswith("sips:"),
        )

    def _tagged(self, uri_text: str, tag: str | None) -> str:
        addr = Address.parse(uri_text)
        addr.params.pop("tag", None)
        if tag:
            addr.params["tag"] = tag
        return str(addr)

    def _route(self) -> tuple[str, list[str]]:
        """Request-URI and Route headers per §12.2.1.1 (loose and strict routers)."""
        if not self.route_set:
            return self.remote_target, []
        first = Address.parse(self.route_set[0])
        if "lr" in first.uri.params:
            return self.remote_target, list(self.route_set)
        # Strict router: it becomes the Request-URI, the remote target goes last.
        first.uri.params = {k: v for k, v in first.uri.params.items() if k not in ("method", "maddr")}
        return str(first.uri), [*self.route_set[1:], f"<{self.remote_target}>"]

    def _build(
        self, method: str, cseq: int, headers: list[tuple[str, str]] | None, body: bytes, via: str | None
    ) -> SipRequest:
        ruri, routes = self._route()
        h = Headers()
        if via is not None:
            h.add("Via", via)
        h.add("Max-Forwards", "70")
        for route in routes:
            h.add("Route", route)
        h.add("From", self._tagged(self.local_uri, self.local_tag))
        h.add("To", self._tagged(self.remote_uri, self.remote_tag))
        h.add("Call-ID", self.call_id)
        h.add("CSeq", f"{cseq} {method}")
        for name, value in headers or []:
            h.add(name, value)
        return SipRequest(method, ruri, h, body)

    def create_request(
        self,
        method: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        *,
        via: str | None = None,
    ) -> SipRequest:
        """A new in-dialog request (BYE, re-INVITE, INFO, …) with the next local CSeq.
        Pass ``via`` (see ``make_via``) or add the top Via before sending."""
        method = method.upper()
        if method in ("ACK", "CANCEL"):
            raise ValueError(f"{method} reuses its INVITE's CSeq; use create_ack / TransactionLayer.cancel")
        self.local_cseq += 1
        return self._build(method, self.local_cseq, headers, body, via)

    def create_ack(
        self,
        invite_2xx_cseq: int,
        body: bytes = b"",
        *,
        headers: list[tuple[str, str]] | None = None,
        via: str | None = None,
    ) -> SipRequest:
        """The ACK for a 2xx to our INVITE (§13.2.2.4): CSeq number of the INVITE."""
        return self._build("ACK", invite_2xx_cseq, headers, body, via)

    def update_target(self, msg: SipRequest | SipResponse) -> None:
        """Target refresh (§12.2): a re-INVITE or UPDATE, or its 2xx, with a Contact."""
        contact = msg.contact
        if contact is not None:
            self.remote_target = str(contact.uri)

    def update_remote_tag(self, response: SipResponse) -> None:
        """Early dialog confirmed by a final answer from (possibly) another fork."""
        tag = response.to_addr.tag
        if tag:
            self.remote_tag = tag
            self.remote_uri = response._required("To")

    def accept_remote_cseq(self, request: SipRequest) -> bool:
        """§12.2.2: False for an out-of-order request (the caller answers 500)."""
        number, method = request.cseq
        if method in ("ACK", "CANCEL"):
            return True
        if self.remote_cseq is not None and number <= self.remote_cseq:
            return False
        self.remote_cseq = number
        return True

    def matches(self, msg: SipRequest | SipResponse) -> bool:
        """Does ``msg`` belong to this dialog (Call-ID and both tags)?"""
        if msg.call_id != self.call_id:
            return False
        if isinstance(msg, SipRequest):
            local, remote = msg.to_addr.tag, msg.from_addr.tag
        else:
            local, remote = msg.from_addr.tag, msg.to_addr.tag
        return local == self.local_tag and (self.remote_tag is None or remote == self.remote_tag)
