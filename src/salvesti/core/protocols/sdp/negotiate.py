"""RFC 3264 offer/answer for one audio stream, the way a recording B2BUA needs it."""

from __future__ import annotations

from .codecs import TELEPHONE_EVENT, Codec
from .session import Connection, MediaDescription, Origin, SessionDescription

_ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


def negotiate(
    offer: SessionDescription, supported: list[Codec]
) -> tuple[list[tuple[int, Codec]], int | None]:
    """Codecs we share with the offer, in the offerer's preference order (RFC 3264
    §6.1 lets the answerer follow it, and keeping the offerer's order means no
    transcoding when both legs speak the same codec), plus the telephone-event
    payload type when offered. The offer's payload type numbers are kept."""
    m = offer.audio()
    if m is None:
        return [], None
    common: list[tuple[int, Codec]] = []
    te_pt: int | None = None
    for pt in m.formats:
        codec = m.codec(pt)
        if codec is None:
            continue
        if codec.same_as(TELEPHONE_EVENT):
            te_pt = pt if te_pt is None else te_pt
        elif any(codec.same_as(s) for s in supported):
            common.append((pt, codec))
    return common, te_pt


def answer_direction(offer_dir: str | None) -> str:
    """The direction to answer with (RFC 3264 §6.1): sendonly is answered recvonly,
    so a phone putting us on hold gets what it asked for."""
    return _ANSWER_DIRECTION.get((offer_dir or "sendrecv").lower(), "sendrecv")


def build_sdp(
    *,
    session_id: int,
    version: int,
    address: str,
    port: int,
    codecs: list[tuple[int, Codec]],
    telephone_event_pt: int | None,
    direction: str = "sendrecv",
    ptime: int = 20,
    offer: SessionDescription | None = None,
) -> SessionDescription:
    """Our offer or answer: one audio stream at ``address:port``. Bump ``version`` on
    every change in a session (RFC 3264 §8), keep ``session_id``.

    With ``offer``, the result is a valid answer to it: RFC 3264 §6 wants one m-line per
    offered m-line in the same order, so every stream but the first active audio one
    (video, a second audio, a data channel) is mirrored with port 0, i.e. refused.
    """
    addrtype = "IP6" if ":" in address else "IP4"
    m = MediaDescription("audio", port, "RTP/AVP")
    for pt, codec in codecs:
        m.formats.append(pt)
        m.rtpmap[pt] = codec
    if telephone_event_pt is not None:
        m.formats.append(telephone_event_pt)
        m.rtpmap[telephone_event_pt] = TELEPHONE_EVENT
        m.fmtp[telephone_event_pt] = "0-16"
    m.ptime = ptime
    m.direction = direction
    media = [m]
    if offer is not None:
        chosen = offer.audio()
        media = [m if o is chosen else _refused(o) for o in offer.media]
        if chosen is None:
            media.append(m)
    return SessionDescription(
        origin=Origin("-", session_id, version, "IN", addrtype, address),
        session_name="-",
        connection=Connection(address, addrtype),
        media=media,
    )


def _refused(offered: MediaDescription) -> MediaDescription:
    """An answer m-line that rejects ``offered`` (RFC 3264 §6: port zero, same formats)."""
    return MediaDescription(
        offered.media,
        0,
        offered.proto,
        list(offered.formats),
        raw_formats=list(offered.raw_formats) if offered.raw_formats is not None else None,
    )
