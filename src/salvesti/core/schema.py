"""Schemas of the core's own config blocks and the shape of the whole file.

Plugin platforms validate their own items; this module says what the file looks like
around them: which top-level keys exist, which of them are lists of ``- platform:`` items
(and which plugin kind serves each), and the ``salvesti:`` and ``store:`` blocks.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import voluptuous as vol

from salvesti.core import health
from salvesti.core.logformat import LOG_FORMATS
from salvesti.core.numbers import _COUNTRY_CODES

#: Top-level keys, in the order the docs present them.
TOP_LEVEL_KEYS = (
    "salvesti",
    "http",
    "store",
    "sources",
    "sinks",
    "notices",
    "retention",
    "integrations",
    "analysis",
)

#: List blocks and the plugin kind whose platforms validate their items.
LIST_KINDS: dict[str, str] = {
    "sources": "source",
    "sinks": "sink",
    "notices": "notice",
    "retention": "retention",
    "integrations": "integration",
}

DEFAULT_STORE: dict[str, Any] = {"platform": "sqlite"}


def suggest(word: object, candidates: list[str] | tuple[str, ...] | set[str]) -> str:
    """``", did you mean 'x'?"`` for the closest candidate, or an empty string."""
    if not isinstance(word, str):
        return ""
    match = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f", did you mean {match[0]!r}?" if match else ""


def known_name(value: object, known: list[str], what: str) -> str:
    """``value`` when it is one of ``known``; else ``unknown WHAT 'x', did you mean 'y'?``
    (or the list, when nothing is close): a profile name, a platform, a shipped file."""
    if isinstance(value, str) and value in known:
        return value
    hint = suggest(value, known) or f" (available: {', '.join(known)})"
    raise vol.Invalid(f"unknown {what} {value!r}{hint}")


def system_timezone() -> str:
    """The machine's zone name (TZ, /etc/timezone, /etc/localtime link), else UTC.

    Date folders and displayed times should match the office's calendar days, so the
    default follows the machine rather than a fixed zone.
    """
    candidates: list[str] = []
    if os.environ.get("TZ"):
        candidates.append(os.environ["TZ"].lstrip(":"))
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            candidates.append(link.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name
    return "UTC"


def timezone_name(value: Any) -> str:
    """A zone name from the tz database, e.g. ``Europe/Tallinn``."""
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a time zone name such as 'Europe/Tallinn'")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid(f"unknown time zone {value!r}{suggest(value, available_timezones())}") from None
    return value


def country(value: Any) -> str:
    """An ISO country code we know the calling code of ('EE'), or a calling code ('372')."""
    text = str(value).strip()
    if re.fullmatch(r"\+?\d{1,3}", text):
        return text.lstrip("+")
    if text.upper() in _COUNTRY_CODES:
        return text.upper()
    known = ", ".join(sorted(_COUNTRY_CODES))
    raise vol.Invalid(f"unknown country {text!r}: use one of {known} or a calling code such as '372'")


def _non_empty_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("must be a non-empty text: the lawful purpose of recording calls")
    return value


def _keypad_code(value: Any) -> str:
    from salvesti.core.protocols.rtp.keypad import valid_code

    text = str(value) if isinstance(value, int) else value
    if not isinstance(text, str) or not valid_code(text):
        raise vol.Invalid("expected 1-8 keypad keys (0-9, *, #, A-D), e.g. '*7'")
    return text.upper()


def _path_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a path")
    return value


def _number_rule(value: Any) -> str:
    """A ``never_record`` entry: an E.164 number or a prefix ending in ``*``, normalised."""
    from salvesti.core.recording_policy import parse_number_rule

    try:
        return parse_number_rule(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


def _text(what: str) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise vol.Invalid(f"must be a non-empty text: {what}")
        return value.strip()

    return check


#: GDPR Art. 6(1) bases a recording can rest on (the privacy texts name the one configured).
LAWFUL_BASES = ("consent", "contract", "legal_obligation", "legitimate_interest")

CONTROLLER_SCHEMA = vol.Schema(
    {
        vol.Required("name"): _text("the controller's legal name"),
        vol.Required("contact"): _text("how data subjects reach the controller (address, e-mail)"),
        vol.Optional("dpo"): _text("the data protection officer's contact"),
    }
)

EMPLOYEE_NOTICE_SCHEMA = vol.Schema(
    {
        # The version employees acknowledge; a new version asks every employee again.
        vol.Required("version"): vol.All(vol.Coerce(str), _text("the notice's version, e.g. '2026-12-01'")),
        # What the web UI shows the employee; omitted: the text `salvesti privacy notice` makes.
        vol.Optional("text"): _text("the employee privacy notice"),
    }
)


def check_core(core: dict[str, Any]) -> dict[str, Any]:
    """Rules across keys of the ``salvesti:`` block (raised at the key that needs the other)."""
    if core.get("require_employee_notice") and not core.get("employee_notice"):
        raise vol.Invalid(
            "needs salvesti.employee_notice: {version: ...} (the notice employees acknowledge)",
            path=["require_employee_notice"],
        )
    return core


CORE_SCHEMA = vol.Schema(
    {
        vol.Optional("data_dir", default="./data"): _path_text,
        vol.Optional("timezone"): timezone_name,
        vol.Required("purpose"): _non_empty_text,
        vol.Optional("default_country", default="EE"): country,
        # Unique per `salvesti run` sharing one store (default: the host name); on each call it takes.
        vol.Optional("node"): vol.All(
            str, vol.Match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", msg="node must be a name like box-a")
        ),
        # Seconds a stop (SIGTERM) waits for calls to end by themselves before hanging them up.
        vol.Optional("shutdown_grace", default=5): vol.All(vol.Coerce(float), vol.Range(min=0, max=600)),
        # uvloop costs less per packet and per timer (docs/performance.md); a dependency on
        # Linux, so auto uses it there and the standard loop elsewhere.
        vol.Optional("event_loop", default="auto"): vol.In(["auto", "asyncio", "uvloop"]),
        # How `salvesti run` writes its log to stderr: text lines, or one JSON object per line
        # for log shippers (salvesti.core.logformat); `--log-format` overrides it. Absent: text.
        vol.Optional("log_format"): vol.In(list(LOG_FORMATS)),
        # Thresholds of the after-call recording health check (salvesti.core.health).
        vol.Optional("health"): health.SCHEMA,
        # The master key of sinks with `encrypt: true` (`salvesti keys init` creates it); keep it
        # off the disk that holds the recordings and out of their backups.
        vol.Optional("key_file"): _path_text,
        # A paused recording resumes by itself after this many seconds (a forgotten pause must
        # not leave the rest of the call unrecorded); 0 turns auto-resume off.
        vol.Optional("pause_max_s", default=300): vol.All(vol.Coerce(float), vol.Range(min=0, max=7200)),
        # Pressed on a desk phone during a call, pauses the recording (pressed again, resumes);
        # the other party does not hear it.  Calls then relay in Python (docs/privacy-controls.md).
        vol.Optional("pause_code"): _keypad_code,
        # The legal-compliance keys below have no defaults in the validated block (absent = off);
        # salvesti.core.recording_policy and salvesti.privacy read them with their defaults.
        # Outside numbers never recorded (E.164 or a prefix ending in *): still listed, never recorded.
        vol.Optional("never_record"): [_number_rule],
        # Who is responsible for the recordings (GDPR Art. 13/30 texts: `salvesti privacy`).
        vol.Optional("controller"): CONTROLLER_SCHEMA,
        # GDPR Art. 6 basis of recording, named in the privacy texts (default legitimate_interest).
        vol.Optional("lawful_basis"): vol.In(LAWFUL_BASES, msg=f"expected one of {', '.join(LAWFUL_BASES)}"),
        # Who else receives recordings or call data besides what the config shows (a CRM, an auditor).
        vol.Optional("recipients"): [_text("a recipient of call data")],
        vol.Optional("employee_notice"): EMPLOYEE_NOTICE_SCHEMA,
        # Record an extension's calls only once its employee acknowledged employee_notice.version.
        vol.Optional("require_employee_notice"): bool,
    }
)
