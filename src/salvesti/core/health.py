"""Recording health: after a call, does what was recorded match what the signalling says?

Recorders fail silently: a call that was never recorded, or recorded one-sided, is usually
noticed weeks later when someone needs it.  So every ended call is checked here against a few
rules; each broken one becomes a :class:`~salvesti.core.call.HealthProblem` on the call
(``call.health``), and a call with any gets one ``recording_unhealthy`` event listing them all
(one webhook, one MQTT event per call, not one per rule).  The rules are pure: they see the
ended call, what the recording saw of each channel (:class:`ChannelAudio`), and the RTP
counters a source could give (:class:`RtpCounts`); a source that cannot count packets gives
none and that rule is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from salvesti.core.call import Call, HealthProblem, HealthReason

__all__ = ["CHANNELS", "ChannelAudio", "HealthProblem", "HealthReason", "Limits", "RtpCounts", "assess"]

#: Channel names, in the recording's channel order (0 = left, 1 = right).
CHANNELS = ("outside", "heard")


@dataclass(frozen=True)
class ChannelAudio:
    """What one channel of a recording received: chunks placed and the loudest sample."""

    chunks: int
    peak: int


@dataclass(frozen=True)
class RtpCounts:
    """One direction's RTP counters at the end of a call (RFC 3550 expected minus received)."""

    received: int
    lost: int


SCHEMA = vol.Schema(
    {
        # Calls with less talk time than this are not checked for silent or empty channels
        # (a caller who hangs up at once has said nothing, and that is not a fault).
        vol.Optional("min_talk_s", default=5.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
        # A recording this much shorter than the talk time is reported.
        vol.Optional("short_by_s", default=2.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
        # A channel whose loudest sample stays below this level is "only silence".
        vol.Optional("silence_dbfs", default=-50.0): vol.All(vol.Coerce(float), vol.Range(min=-96, max=0)),
        # RTP packet loss above this share of the expected packets, in one direction.
        vol.Optional("max_packet_loss_percent", default=5.0): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=100)
        ),
    }
)


@dataclass(frozen=True)
class Limits:
    """The thresholds of the rules (``salvesti.health`` in the config)."""

    min_talk_s: float = 5.0
    short_by_s: float = 2.0
    silence_dbfs: float = -50.0
    max_packet_loss_percent: float = 5.0

    @classmethod
    def from_config(cls, conf: Mapping[str, Any] | None) -> Limits:
        return cls(**SCHEMA(dict(conf or {})))

    @property
    def silence_peak(self) -> int:
        """The sample value (of 32768) a channel must reach once to count as not silent."""
        return math.ceil(32768 * 10 ** (self.silence_dbfs / 20))


def assess(
    call: Call,
    *,
    expected: bool,
    audio: Sequence[ChannelAudio] | None,
    rtp: Mapping[str, RtpCounts] | None = None,
    limits: Limits = Limits(),
) -> list[HealthProblem]:
    """The problems of an ended call; empty when healthy or when nothing was to be recorded.

    ``expected``: the source meant to record this call.  Only answered calls are checked:
    a call nobody answered has no talk time to compare with.
    """
    talk = call.duration_s
    if not expected or talk is None:
        return []
    rec = call.recording
    if rec is None or not rec.path or (rec.status == "failed" and not rec.duration_s):
        why = rec.note if rec is not None and rec.note else "the audio path never opened"
        return [HealthProblem(HealthReason.NO_RECORDING, f"{talk:.1f} s of talk time, no recording: {why}")]
    problems: list[HealthProblem] = []
    if rec.duration_s is not None and rec.duration_s < talk - limits.short_by_s:
        problems.append(
            HealthProblem(HealthReason.SHORT, f"recording {rec.duration_s:.1f} s, talk time {talk:.1f} s")
        )
    elif rec.status == "failed":  # it broke off (a full disk): what was written is kept, and said
        why = rec.note or "the sink failed"
        detail = f"recording failed partway ({why}); talk {talk:.1f} s"
        problems.append(HealthProblem(HealthReason.SHORT, detail))
    if audio is not None and talk >= limits.min_talk_s:
        problems += _channel_problems(audio, limits)
    for channel, counts in sorted((rtp or {}).items()):
        expected_packets = counts.received + counts.lost
        if expected_packets and 100 * counts.lost / expected_packets > limits.max_packet_loss_percent:
            share = 100 * counts.lost / expected_packets
            problems.append(
                HealthProblem(
                    HealthReason.PACKET_LOSS,
                    f"{counts.lost} of {expected_packets} RTP packets lost ({share:.1f} %)",
                    channel,
                )
            )
    return problems


def _channel_problems(audio: Sequence[ChannelAudio], limits: Limits) -> list[HealthProblem]:
    out: list[HealthProblem] = []
    for name, seen in zip(CHANNELS, audio, strict=False):
        if seen.chunks == 0:
            out.append(HealthProblem(HealthReason.NO_AUDIO, "no audio packets for the whole call", name))
        elif seen.peak < limits.silence_peak:
            level = 20 * math.log10(seen.peak / 32768) if seen.peak else -math.inf
            out.append(
                HealthProblem(
                    HealthReason.SILENT, f"only silence for the whole call (peak {level:.0f} dBFS)", name
                )
            )
    return out
