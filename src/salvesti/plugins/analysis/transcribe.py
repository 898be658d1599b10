"""Speech to text on the box: faster-whisper (CTranslate2, int8, CPU), one channel at a time.

Each channel is decoded on its own with everything outside that party's own speech segments
silenced: otherwise Whisper also transcribes the other party's bleed and attributes it to the
wrong speaker, and decodes silence for nothing (research B.2: right attribution and 1.6-3.6x
faster).  The model is loaded once per worker process from a local folder, never fetched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from salvesti.core.analysis.vad import gate
from salvesti.core.analyzers import TranscriptLine

WHISPER_RATE = 16000


def to_whisper_audio(pcm: np.ndarray, rate: int) -> np.ndarray:
    """int16 at ``rate`` -> float32 at 16 kHz in [-1, 1] (linear interpolation: telephone audio
    has nothing above 4 kHz to alias)."""
    audio = pcm.astype(np.float32) / 32768.0
    if rate == WHISPER_RATE or audio.size == 0:
        return audio
    n_out = round(audio.size * WHISPER_RATE / rate)
    x_old = np.arange(audio.size, dtype=np.float64) / rate
    x_new = np.arange(n_out, dtype=np.float64) / WHISPER_RATE
    return np.interp(x_new, x_old, audio).astype(np.float32)


class Transcriber:
    """One loaded Whisper model and how to call it."""

    def __init__(self, model_dir: Path, *, language: str, threads: int, beam_size: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from faster_whisper import WhisperModel

        self.model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True
        )
        self.language = None if language == "auto" else language
        self.beam_size = beam_size

    def channel(
        self, pcm: np.ndarray, rate: int, speech: list[tuple[float, float]], channel: str
    ) -> tuple[list[TranscriptLine], str | None]:
        """The lines one party said (their speech only), and the language used."""
        if not speech:
            return [], self.language
        audio = to_whisper_audio(gate(pcm, rate, speech), rate)
        segments, info = self.model.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=False,
        )
        lines: list[TranscriptLine] = []
        for seg in segments:
            text = (seg.text or "").strip()
            if not text:
                continue
            words: list[dict[str, Any]] = [
                {"text": w.word.strip(), "start_s": round(float(w.start), 2), "end_s": round(float(w.end), 2)}
                for w in (seg.words or [])
                if w.word.strip()
            ]
            if words and not _inside(words, speech):
                continue  # decoded from gated silence: a hallucination, not speech
            lines.append(TranscriptLine(channel, float(seg.start), float(seg.end), text, words))
        return lines, getattr(info, "language", None) or self.language


def _inside(words: list[dict[str, Any]], speech: list[tuple[float, float]], pad: float = 0.5) -> bool:
    """True when any word overlaps the party's speech (with some slack for word timing)."""
    for word in words:
        for start, end in speech:
            if word["start_s"] < end + pad and word["end_s"] > start - pad:
                return True
    return False
