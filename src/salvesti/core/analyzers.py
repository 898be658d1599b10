"""What an analyzer is: one step of the after-call analysis, run in a worker process.

Analysis never touches the media path: the hub only queues a finished call, and the steps run
later, in worker processes at low priority, on the finished recording.  A step is an
:class:`Analyzer`; plugins add their own through the ``register_analyzers`` hook (see
:mod:`salvesti.core.hookspecs`), and the worker runs every registered step in ``order``.  The
built-ins are ``talk`` (voice activity and talk metrics, order 10), ``notice`` (was the notice
in the recording, 20), ``transcript`` (speech to text with card data redacted, 30) and
``trackers`` (phrases spotted, 40); a third-party step with order 50 sees all of their output.

A step reads and extends one :class:`CallMedia`; whatever it puts in ``result`` under its own
key is stored with the call and returned by ``GET /api/calls/{id}/analysis``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


class AnalysisError(Exception):
    """The recording cannot be analysed (missing, unreadable, not stereo): the job fails with
    this message and is not retried, since trying again would read the same file."""


@dataclass
class TranscriptLine:
    """One transcribed stretch of one party: ``channel`` is ``outside`` or ``agent``."""

    channel: str
    start_s: float
    end_s: float
    text: str
    #: ``[{"text", "start_s", "end_s"}]`` word timings, when the engine gives them.
    words: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "start_s": round(self.start_s, 2),
            "end_s": round(self.end_s, 2),
            "text": self.text,
            "words": self.words,
        }


@dataclass
class CallMedia:
    """One call's recording and everything the steps learned so far.

    ``outside`` is the left channel (what the outside party said), ``agent`` the right one (what
    they heard: the notice, then the agent).  ``notice_span`` is where the notice plays in the
    agent channel, so talk metrics and transcripts leave it out.
    """

    call: dict[str, Any]
    rate: int
    outside: np.ndarray
    agent: np.ndarray
    notice_pcm: np.ndarray | None = None
    notice_span: tuple[float, float] | None = None
    #: Speech segments per channel (``outside``/``agent``), seconds, notice cut from ``agent``.
    speech: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    transcript: list[TranscriptLine] = field(default_factory=list)
    #: Distinct phrases of the call (for "what wins"); tracker ids go in as ``tracker:<id>``.
    terms: set[str] = field(default_factory=set)
    #: Reasons to review the call: ``notice_unverified``, ``card_data``.
    flags: set[str] = field(default_factory=set)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return len(self.outside) / self.rate if self.rate else 0.0


@runtime_checkable
class Analyzer(Protocol):
    """One analysis step.  Built once per worker process (so a model loads once)."""

    name: str
    order: int

    def analyze(self, media: CallMedia) -> None:
        """Read ``media`` and add to it; raise :class:`AnalysisError` for a bad recording."""
        ...


@dataclass(frozen=True)
class AnalyzerSpec:
    """What a plugin registers: a name, its place in the order, and a factory.

    ``factory(config)`` gets the validated ``analysis:`` block (plain data, as the worker
    process received it) and returns the :class:`Analyzer`, or None when it has nothing to do
    with this config (the transcript step without ``transcription:``).
    """

    name: str
    order: int
    factory: Callable[[dict[str, Any]], Analyzer | None]
    description: str = ""
