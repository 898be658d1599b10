"""Log formats for ``salvesti run``: the readable text line, or one JSON object per line.

JSON is for journald/Loki/Elastic shippers that index fields instead of grepping text
(``salvesti.log_format: json`` or ``salvesti run --log-format json``). Each object has
``time`` (UTC, RFC 3339 with milliseconds), ``level``, ``logger``, ``message`` and ``node``
(this process's name among the nodes, as stamped on its calls), plus ``call_id`` when the
line is about a call and ``exc`` with the traceback when there is one.

The call id comes from ``extra={"call_id": ...}`` when a caller gives it, else from the
house convention that a line about a call says ``call %s`` with the id as that argument
(``"%s: call %s: audio failed"``), so every existing call line is tagged without touching it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[a-zA-Z%]")


def call_id_of(record: logging.LogRecord) -> str | None:
    """The call a record is about: its ``call_id`` extra, or the argument after ``call %s``."""
    given = record.__dict__.get("call_id")
    if isinstance(given, str):
        return given
    template = record.msg if isinstance(record.msg, str) else ""
    at = template.find("call %s")
    if at < 0 or not isinstance(record.args, tuple):
        return None
    index = sum(1 for m in _PLACEHOLDER.finditer(template, 0, at) if m.group() != "%%")
    value = record.args[index] if index < len(record.args) else None
    return value if isinstance(value, str) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped)."""

    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, str] = {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "node": self.node,
        }
        call_id = call_id_of(record)
        if call_id is not None:
            entry["call_id"] = call_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["exc"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, log_format: str = "text", *, node: str = "") -> None:
    """Send the process's logs to stderr in ``log_format`` at ``level`` (replacing handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(node))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler], force=True)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
