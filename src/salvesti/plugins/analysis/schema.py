"""The ``analysis:`` block: a purpose of its own, which lines, transcription, trackers.

Analysis is a second use of recordings, so it needs its own lawful purpose (employees are told
of it separately); without ``purpose`` the config is invalid and nothing starts.  The model is
checked at ``check-config`` time, at file and line, so a missing model is not a surprise on the
first call of the day.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import voluptuous as vol

from salvesti.plugins.analysis.models import describe_problem

LANGUAGES_HINT = "a language code such as 'et', 'en', 'ru', or 'auto'"


def _text(what: str) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise vol.Invalid(f"must be a non-empty text: {what}")
        return value.strip()

    return check


def _language(value: Any) -> str:
    if not isinstance(value, str) or not (value == "auto" or (value.isalpha() and 2 <= len(value) <= 3)):
        raise vol.Invalid(f"expected {LANGUAGES_HINT}")
    return value.lower()


def _phrase(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 80:
        raise vol.Invalid("a tracker phrase is a text of 1-80 characters")
    return value.strip()


TRACKER = vol.Schema(
    {
        vol.Required("id"): vol.All(
            str, vol.Match(r"^[A-Za-z0-9_.-]{1,40}$", msg="an id of letters, digits, _ . -")
        ),
        vol.Required("phrases"): vol.All([_phrase], vol.Length(min=1, max=100)),
        vol.Optional("name"): str,
    }
)

TRANSCRIPTION = vol.Schema(
    {
        vol.Required("model"): _text("a Whisper model folder or a packaged model name"),
        vol.Optional("language", default="auto"): _language,
        vol.Optional("threads", default=1): vol.All(int, vol.Range(min=1, max=16)),
        vol.Optional("beam_size", default=1): vol.All(int, vol.Range(min=1, max=10)),
    }
)

SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "analysis",
        vol.Optional("id"): str,
        vol.Required("purpose"): _text("the lawful purpose of analysing calls"),
        vol.Optional("lines"): vol.All([str], vol.Length(min=1)),
        vol.Optional("transcription"): TRANSCRIPTION,
        vol.Optional("trackers", default=[]): [TRACKER],
        # Worker processes (each loads the model once); they run at low priority (nice).
        vol.Optional("concurrency", default=1): vol.All(int, vol.Range(min=1, max=16)),
        vol.Optional("nice", default=10): vol.All(int, vol.Range(min=0, max=19)),
        vol.Optional("retries", default=3): vol.All(int, vol.Range(min=0, max=20)),
        vol.Optional("retry_backoff_s", default=60): vol.All(
            vol.Coerce(float), vol.Range(min=0.01, max=86400)
        ),
        # Normalised cross-correlation above which the notice counts as found in the recording.
        vol.Optional("notice_threshold", default=0.5): vol.All(vol.Coerce(float), vol.Range(min=0.05, max=1)),
        # Insights show a phrase only when it occurs in at least this many won or lost calls.
        vol.Optional("min_calls", default=3): vol.All(int, vol.Range(min=1, max=1000)),
    }
)


def cross_check(item: dict[str, Any], config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """What the schema cannot see: the model exists, the lines are configured lines."""
    problems: list[tuple[list[Any], str]] = []
    transcription = item.get("transcription")
    config_dir = Path(config.get("_config_dir") or ".")
    if transcription:
        problem = describe_problem(transcription["model"], config_dir)
        if problem:
            problems.append((["transcription", "model"], problem))
        if importlib.util.find_spec("faster_whisper") is None:
            problems.append(
                (["transcription"], "transcripts need faster-whisper: pip install 'salvesti[analysis]'")
            )
    known: set[str] = set()
    for source in config.get("sources") or []:
        known.update(source.get("lines") or [])
        if source.get("line"):
            known.add(source["line"])
    for index, line in enumerate(item.get("lines") or []):
        if known and line not in known:
            problems.append(
                (["lines", index], f"{line!r} is not a line of any source ({', '.join(sorted(known))})")
            )
    seen: set[str] = set()
    for index, tracker in enumerate(item.get("trackers") or []):
        if tracker["id"] in seen:
            problems.append((["trackers", index, "id"], f"duplicate tracker id {tracker['id']!r}"))
        seen.add(tracker["id"])
    return problems
