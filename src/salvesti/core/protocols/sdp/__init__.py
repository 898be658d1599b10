"""Sans-IO SDP (RFC 4566) and offer/answer (RFC 3264) for audio calls."""

from .codecs import CN, G722, OPUS, PCMA, PCMU, STATIC_PAYLOAD_TYPES, TELEPHONE_EVENT, Codec
from .negotiate import answer_direction, build_sdp, negotiate
from .session import Connection, MediaDescription, Origin, SdpParseError, SessionDescription

__all__ = [
    "CN",
    "G722",
    "OPUS",
    "PCMA",
    "PCMU",
    "STATIC_PAYLOAD_TYPES",
    "TELEPHONE_EVENT",
    "Codec",
    "Connection",
    "MediaDescription",
    "Origin",
    "SdpParseError",
    "SessionDescription",
    "answer_direction",
    "build_sdp",
    "negotiate",
]
