"""The built-in analysis steps: notice evidence, talk metrics, transcript, trackers.

Each is an :class:`~salvesti.core.analyzers.Analyzer` built once per worker process; the
math lives in :mod:`salvesti.core.analysis` (pure functions), these only wire it to a
:class:`~salvesti.core.analyzers.CallMedia`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from salvesti.core.analysis import notice_match, phrases, redact, talk, trackers, vad
from salvesti.core.analysis.words import Line, Word
from salvesti.core.analyzers import AnalyzerSpec, CallMedia, TranscriptLine

CHANNELS = ("outside", "agent")


class NoticeStep:
    """Finds the recording notice in what the outside party heard (right channel).

    When found, its span there is where the notice really played; else the span the source
    reported (``notice.played_at``) is used to cut it from the agent's talk.
    """

    name = "notice"
    order = 10

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def analyze(self, media: CallMedia) -> None:
        notice = media.call.get("notice") or {}
        expected = media.notice_pcm is not None and not notice.get("waived_reason")
        if media.notice_pcm is None or media.notice_pcm.size == 0:
            media.result["notice"] = {"verified": False, "score": 0.0, "at_s": None, "expected": False}
            return
        match = notice_match.find_notice(media.agent, media.notice_pcm, media.rate, threshold=self.threshold)
        length = media.notice_pcm.size / media.rate
        media.result["notice"] = {**match.to_json(), "expected": expected}
        if match.verified and match.at_s is not None:
            media.notice_span = (match.at_s, min(media.duration_s, match.at_s + length))
        elif expected:
            media.flags.add("notice_unverified")


def paused_spans(call: dict[str, Any], duration_s: float) -> list[tuple[float, float]]:
    """The call object's ``pauses`` as (start, end) seconds; a pause still open runs to the end."""
    spans = []
    for pause in call.get("pauses") or []:
        end = pause.get("end_s")
        spans.append((float(pause["start_s"]), duration_s if end is None else float(end)))
    return spans


class TalkStep:
    """Who spoke when, per channel (energy AND webrtcvad on a 10 ms grid), and the talk metrics."""

    name = "talk"
    order = 20

    def analyze(self, media: CallMedia) -> None:
        outside = vad.detect(media.outside, media.rate)
        agent = vad.detect(media.agent, media.rate)
        if media.notice_span is not None:
            agent = vad.cut(agent, *media.notice_span)
        # A paused span is digital silence already; cutting it as well means nothing a
        # decoder might invent there (Whisper on silence) can ever be kept or indexed.
        for start, end in paused_spans(media.call, media.duration_s):
            outside, agent = vad.cut(outside, start, end), vad.cut(agent, start, end)
        media.speech = {"outside": outside, "agent": agent}
        media.result["talk"] = talk.talk_metrics(outside, agent).to_json()
        media.result["speech"] = {
            k: [[round(a, 2), round(b, 2)] for a, b in v] for k, v in media.speech.items()
        }


class TranscriptStep:
    """Speech to text per channel, with card numbers redacted before anything is kept."""

    name = "transcript"
    order = 30

    def __init__(self, conf: dict[str, Any], model_dir: Path) -> None:
        self.conf = conf
        self.model_dir = model_dir
        self._engine: Any = None

    def _transcriber(self) -> Any:
        if self._engine is None:
            from salvesti.plugins.analysis.transcribe import Transcriber

            self._engine = Transcriber(
                self.model_dir,
                language=self.conf.get("language", "auto"),
                threads=self.conf.get("threads", 1),
                beam_size=self.conf.get("beam_size", 1),
            )
        return self._engine

    def analyze(self, media: CallMedia) -> None:
        engine = self._transcriber()
        lines: list[TranscriptLine] = []
        redactions = 0
        languages: dict[str, str | None] = {}
        for channel in CHANNELS:
            pcm = media.outside if channel == "outside" else media.agent
            found, language = engine.channel(pcm, media.rate, media.speech.get(channel, []), channel)
            languages[channel] = language
            clean, count = redact.redact_lines([_to_line(x) for x in found])
            redactions += count
            lines += [_from_line(x) for x in clean]
        lines.sort(key=lambda x: (x.start_s, x.channel))
        media.transcript = lines
        media.result["redactions"] = redactions
        media.result["language"] = languages
        if redactions:
            media.flags.add("card_data")
        talk_result = media.result.get("talk")
        if isinstance(talk_result, dict):
            agent_s = float(talk_result.get("agent_s") or 0.0)
            texts = [x.text for x in lines if x.channel == "agent"]
            talk_result["question_rate"] = talk.question_rate(texts, agent_s)
        media.terms |= phrases.call_terms([_to_line(x) for x in lines])


class TrackerStep:
    """The configured phrases, spotted per call and channel with their times."""

    name = "trackers"
    order = 40

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.trackers = [trackers.Tracker(t["id"], tuple(t["phrases"])) for t in items]

    def analyze(self, media: CallMedia) -> None:
        hits = trackers.spot([_to_line(x) for x in media.transcript], self.trackers) if self.trackers else []
        media.result["trackers"] = [hit.to_json() for hit in hits]
        media.terms |= {f"tracker:{hit.id}" for hit in hits}


def _to_line(line: TranscriptLine) -> Line:
    words = [Word(w["text"], float(w["start_s"]), float(w["end_s"])) for w in line.words]
    if not words:  # no word timings: the line's words share its span
        parts = line.text.split()
        step = (line.end_s - line.start_s) / max(1, len(parts))
        words = [Word(p, line.start_s + i * step, line.start_s + (i + 1) * step) for i, p in enumerate(parts)]
    return Line(line.channel, line.start_s, line.end_s, line.text, words)


def _from_line(line: Line) -> TranscriptLine:
    return TranscriptLine(
        line.channel,
        line.start_s,
        line.end_s,
        line.text,
        [{"text": w.text, "start_s": round(w.start_s, 2), "end_s": round(w.end_s, 2)} for w in line.words],
    )


def _transcript_factory(conf: dict[str, Any]) -> TranscriptStep | None:
    transcription = conf.get("transcription")
    if not transcription:
        return None
    return TranscriptStep(transcription, Path(conf["_model_dir"]))


SPECS = (
    AnalyzerSpec(
        "notice",
        10,
        lambda conf: NoticeStep(conf.get("notice_threshold", 0.5)),
        "finds the recording notice in what the outside party heard",
    ),
    AnalyzerSpec("talk", 20, lambda conf: TalkStep(), "talk time, share, overlap, turns, interruptions"),
    AnalyzerSpec(
        "transcript", 30, _transcript_factory, "offline speech to text per party, card data redacted"
    ),
    AnalyzerSpec(
        "trackers",
        40,
        lambda conf: TrackerStep(conf.get("trackers") or []),
        "configured phrases spotted per call and party",
    ),
)
