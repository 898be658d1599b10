"""One bridged call's state: its legs, its event queue and its SDP offer/answer per leg.

A B2BUA call has an outside leg (the trunk, or the caller of an internal call) and one or
more inside legs (the phone; several while an inbound call rings forked).  Each leg is its
own SIP dialog with its own Call-ID and its own RTP port on our side.  SIP events for the
call's legs are queued on the call and consumed, in order, by one coroutine per call
(``flows.py``), so a call's logic reads top to bottom and never races itself.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from salvesti.core.protocols.sdp import (
    G722,
    OPUS,
    PCMA,
    PCMU,
    Codec,
    SessionDescription,
    answer_direction,
    build_sdp,
    negotiate,
)
from salvesti.core.protocols.sdp.session import MediaDescription, SdpParseError
from salvesti.core.protocols.sip.reliable import ReliableProvisionals
from salvesti.integrations.sip.srtp import PROFILE, SdesError, SdesNegotiation

if TYPE_CHECKING:
    from salvesti.core.call import Call
    from salvesti.core.protocols.sip.dialog import Dialog
    from salvesti.core.protocols.sip.message import SipRequest
    from salvesti.core.protocols.sip.session_timer import SessionTimer
    from salvesti.core.protocols.sip.transaction import ClientTransaction, ServerTransaction
    from salvesti.core.recording import CallRecording
    from salvesti.integrations.sip.media import CallMedia, MediaLeg

Addr = tuple[str, int]

CODECS: dict[str, Codec] = {"PCMU": PCMU, "PCMA": PCMA, "G722": G722, "opus": OPUS}
#: Our payload types when we offer (static ones per RFC 3551, dynamic ones our choice).
OFFER_PT: dict[str, int] = {"pcmu": 0, "pcma": 8, "g722": 9, "opus": 111}
TELEPHONE_EVENT_PT = 101


class NoCommonCodec(Exception):
    """The offer shares no codec with ours (answered 488)."""


class SrtpRefused(NoCommonCodec):
    """The carrier leg needs SRTP and the peer's SDP has none we can use (answered 488 too);
    the message says what was wrong."""


@dataclass(eq=False)
class Leg:
    """One side of the call: a dialog with a phone or with the trunk."""

    role: str  # "outside" | "inside"
    uas: bool  # True when the far end sent the INVITE
    addr: Addr
    transport: str
    call_id: str
    local_tag: str
    local_host: str
    contact_user: str = "salvesti"
    invite: SipRequest | None = None
    server_txn: ServerTransaction | None = None
    client_txn: ClientTransaction | None = None
    dialog: Dialog | None = None
    media: MediaLeg | None = None
    codec: tuple[int, Codec] | None = None
    te_pt: int | None = None
    latch_any: bool = False
    state: str = "new"  # new, early, confirmed, ended
    final_status: int | None = None
    extension: str | None = None
    ack: SipRequest | None = None
    offered: list[tuple[int, Codec]] = field(default_factory=list)
    local_direction: str = "sendrecv"
    sdp_session: int = field(default_factory=lambda: secrets.randbelow(2**31))
    sdp_version: int = 0
    auth_tries: int = 0
    held: bool = False
    #: RFC 4028 session timer negotiated with this leg's peer, and its scheduled deadline.
    session: SessionTimer | None = None
    session_handle: asyncio.TimerHandle | None = None
    #: RFC 3262: the RSeq of the reliable 18x we PRACKed on this leg, and the SDP answer a
    #: reliable one carried (the answer to our offer: the 2xx may then come without SDP).
    provisionals: ReliableProvisionals = field(default_factory=ReliableProvisionals)
    early_answer: bytes | None = None
    #: SDES-keyed SRTP on this leg (the carrier's, with ``srtp: sdes``); None: plain RTP.
    sdes: SdesNegotiation | None = None

    def __repr__(self) -> str:
        return f"<Leg {self.role} {'uas' if self.uas else 'uac'} {self.addr} {self.state} {self.extension}>"

    # -- SDP ---------------------------------------------------------------------------------
    def local_sdp(self, codecs: list[tuple[int, Codec]] | None = None, direction: str | None = None) -> bytes:
        """Our SDP for this leg: our address and this leg's RTP port."""
        assert self.media is not None
        self.sdp_version += 1
        if direction is not None:
            self.local_direction = direction
        chosen = codecs if codecs is not None else ([self.codec] if self.codec else self.offered)
        te = self.te_pt if codecs is None else (self.te_pt or TELEPHONE_EVENT_PT)
        sd = build_sdp(
            session_id=self.sdp_session,
            version=self.sdp_version,
            address=self.local_host,
            port=self.media.local_port,
            codecs=chosen,
            telephone_event_pt=te,
            direction=self.local_direction,
        )
        sd.origin.username = "salvesti"
        if self.sdes is not None:
            self.sdes.describe(sd.media[0])
        return sd.to_bytes()

    def answer_offer(self, body: bytes, supported: list[Codec], prefer: Codec | None = None) -> bytes:
        """Take the remote offer, pick one codec (``prefer`` first, to avoid transcoding),
        point the media leg at the offerer and return our answer."""
        offer = _parse(body)
        common, te_pt = negotiate(offer, supported)
        if not common:
            raise NoCommonCodec
        chosen = common[0]
        if prefer is not None:
            chosen = next((c for c in common if c[1].same_as(prefer)), chosen)
        m = offer.audio()
        assert m is not None
        self._keys(m, offered=True)
        self.codec, self.te_pt = chosen, te_pt
        self._apply_remote(offer, m)
        return self.local_sdp(direction=answer_direction(offer.media_direction(m)))

    def make_offer(self, supported: list[Codec], prefer: Codec | None = None) -> bytes:
        """Our offer: ``prefer`` first (the other leg's codec), then the configured ones."""
        order = [prefer] if prefer is not None else []
        order += [c for c in supported if prefer is None or not c.same_as(prefer)]
        self.offered = [(OFFER_PT[c.name.lower()], c) for c in order if c.name.lower() in OFFER_PT]
        self.te_pt = TELEPHONE_EVENT_PT
        return self.local_sdp(self.offered)

    def take_answer(self, body: bytes) -> None:
        """The far end's answer to our offer: its first codec that we offered."""
        answer = _parse(body)
        m = answer.audio()
        if m is None:
            raise NoCommonCodec
        self._keys(m, offered=False)
        chosen = None
        for pt in m.formats:
            codec = m.codec(pt)
            if codec is not None and any(codec.same_as(c) for _, c in self.offered):
                chosen = (pt, codec)
                break
        if chosen is None:
            raise NoCommonCodec
        self.codec = chosen
        te = [pt for pt in m.formats if (m.codec(pt) or Codec("", 0)).name.lower() == "telephone-event"]
        self.te_pt = te[0] if te else None
        self._apply_remote(answer, m)

    def _keys(self, m: MediaDescription, *, offered: bool) -> None:
        """Take the peer's SDES key from its offer or answer (SRTP legs only).

        A plain leg refuses SRTP-only media: answering RTP/SAVP with RTP/AVP is no valid
        answer (RFC 3264 §6), the call would fail later with no reason given.
        """
        if self.sdes is None:
            if m.proto.upper() == PROFILE:
                raise SrtpRefused(
                    f"the peer wants SRTP ({PROFILE}); for a carrier, set srtp: sdes on its trunk or account"
                )
            return
        try:
            if offered:
                self.sdes.take_offer(m)
            else:
                self.sdes.take_answer(m)
        except SdesError as err:
            raise SrtpRefused(str(err)) from None

    def _apply_remote(self, sd: SessionDescription, m: Any) -> None:
        assert self.media is not None and self.codec is not None
        address = sd.media_address(m)
        addr = (address, m.port) if address else None
        self.media.set_remote(addr, self.codec, self.te_pt, sd.media_direction(m), latch_any=self.latch_any)
        if self.sdes is not None:
            self.media.srtp = self.sdes.session()

    def refresh_answered(self, body: bytes) -> None:
        """The answer to our session refresh: on an SRTP leg the peer may have a new key
        (RFC 4568 §7.1.4); take it, or keep the old one when the answer has none usable."""
        if self.sdes is None or self.media is None or not body:
            return
        try:
            m = _parse(body).audio()
            if m is not None:
                self._keys(m, offered=False)
                self.media.srtp = self.sdes.session()
        except NoCommonCodec:
            pass

    def remote_update(self, body: bytes) -> tuple[bytes, bool]:
        """A re-INVITE's offer on an established leg: apply it, answer with the same codec.

        Returns our answer and whether the offer put us on hold.
        """
        offer = _parse(body)
        m = offer.audio()
        if m is None or self.codec is None:
            raise NoCommonCodec
        pt_codec = None
        for pt in m.formats:
            codec = m.codec(pt)
            if codec is not None and codec.same_as(self.codec[1]):
                pt_codec = (pt, codec)
                break
        if pt_codec is None:
            raise NoCommonCodec
        self._keys(m, offered=True)
        self.codec = pt_codec
        self._apply_remote(offer, m)
        return self.local_sdp(direction=answer_direction(offer.media_direction(m))), offer.is_hold()


def _parse(body: bytes) -> SessionDescription:
    if not body:
        raise NoCommonCodec
    try:
        return SessionDescription.parse(body)
    except SdpParseError as err:
        raise NoCommonCodec from err


@dataclass
class CallEvent:
    kind: str  # response, timeout, cancel, bye, ack_timeout, notice_done, no_answer, hangup, refer,
    # agent_answer, agent_gone
    leg: Leg | None = None
    data: Any = None


class B2BCall:
    """The legs, media and recording of one call, plus its event queue."""

    def __init__(self, record: Call, label: str) -> None:
        self.record = record
        self.label = label
        self.legs: list[Leg] = []
        self.events: asyncio.Queue[CallEvent] = asyncio.Queue()
        self.media: CallMedia | None = None
        self.recording: CallRecording | None = None
        self.task: asyncio.Task[Any] | None = None
        self.allocated: list[MediaLeg] = []
        self.cancelled = False
        self.finished = False
        #: A blind transfer in progress (see ``midcall.py``).
        self.transfer: Any = None
        #: The inside party when it is another source's agent (a browser tab): its loop
        #: pair (``agent.AgentPort``) once bridged, and the link to tell how the call ends.
        self.agent: Any = None
        self.agent_link: Any = None
        #: The extensions being rung now (for the other sources' ringers).
        self.ring_users: list[str] = []

    def post(self, kind: str, leg: Leg | None = None, data: Any = None) -> None:
        self.events.put_nowait(CallEvent(kind, leg, data))

    async def next(self, within: float | None = None) -> CallEvent | None:
        """The next event, or None when ``within`` seconds pass first."""
        try:
            async with asyncio.timeout(within):
                return await self.events.get()
        except TimeoutError:
            return None

    def legs_of(self, role: str) -> list[Leg]:
        return [leg for leg in self.legs if leg.role == role]

    @property
    def outside(self) -> Leg:
        return self.legs_of("outside")[0]
