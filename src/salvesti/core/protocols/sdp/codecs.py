"""Audio codecs as SDP names them (RFC 3551 static payload types, rtpmap names)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Codec:
    """An RTP payload format: encoding name, RTP clock rate and channel count.

    G.722 is the classic trap: its RTP clock rate is 8000 (RFC 3551 §4.5.2) although it
    carries 16 kHz audio, so comparing by SDP values is right and sample rates are not.
    """

    name: str
    clock_rate: int
    channels: int = 1

    def same_as(self, other: Codec) -> bool:
        """Names compare case-insensitively (``PCMU`` and ``pcmu`` are one codec)."""
        return (
            self.name.lower() == other.name.lower()
            and self.clock_rate == other.clock_rate
            and self.channels == other.channels
        )

    @property
    def sample_rate(self) -> int:
        """The audio sample rate, which differs from the RTP clock only for G.722."""
        return 16000 if self.name.upper() == "G722" and self.clock_rate == 8000 else self.clock_rate

    @property
    def rtpmap(self) -> str:
        """The ``a=rtpmap`` value after the payload type: ``opus/48000/2``."""
        base = f"{self.name}/{self.clock_rate}"
        return f"{base}/{self.channels}" if self.channels != 1 else base


PCMU = Codec("PCMU", 8000)
PCMA = Codec("PCMA", 8000)
G722 = Codec("G722", 8000)
CN = Codec("CN", 8000)
GSM = Codec("GSM", 8000)
G729 = Codec("G729", 8000)
OPUS = Codec("opus", 48000, 2)
TELEPHONE_EVENT = Codec("telephone-event", 8000)

# RFC 3551 table 4: payload types that need no a=rtpmap line.
STATIC_PAYLOAD_TYPES: dict[int, Codec] = {0: PCMU, 3: GSM, 8: PCMA, 9: G722, 13: CN, 18: G729}
