"""Sans-IO RTP (RFC 3550), telephone events (RFC 4733) and RTCP detection (RFC 5761).

Nothing here touches sockets or the event loop: the media relay in
``salvesti.integrations.sip.media`` moves the bytes, these modules only say what they mean.
"""

from salvesti.core.protocols.rtp.dtmf import TelephoneEvent
from salvesti.core.protocols.rtp.packet import (
    RTP_HEADER,
    RtpError,
    RtpPacket,
    is_rtcp,
    parse_header,
)

__all__ = ["RTP_HEADER", "RtpError", "RtpPacket", "TelephoneEvent", "is_rtcp", "parse_header"]
