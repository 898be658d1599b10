"""The JSON log line: its fields, and which call a line is about."""

from __future__ import annotations

import json
import logging

from salvesti.core.logformat import JsonFormatter, call_id_of


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("salvesti.test", logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    record.created = 1796774400.1234  # 2026-12-09T00:00:00.123Z
    return record


def test_call_id_from_the_house_convention_and_from_extra() -> None:
    assert call_id_of(_record("call %s: not recorded: %s", "c1", "x")) == "c1"
    assert call_id_of(_record("%s: call %s: audio failed: %s", "sip_trunk(telia)", "c2", "e")) == "c2"
    assert call_id_of(_record("%d%% of %s: call %s: slow", 5, "x", "c3")) == "c3"
    assert call_id_of(_record("sweep done", call_id="c4")) == "c4"
    assert call_id_of(_record("listening on %s", "x")) is None
    assert call_id_of(_record("call %s: odd", 5)) is None  # not a call id
    assert call_id_of(_record("call %s: missing")) is None


def test_json_line_fields() -> None:
    line = JsonFormatter("box-a").format(_record("call %s: two\nlines", "c1"))
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-12-09T00:00:00.123Z",
        "level": "warning",
        "logger": "salvesti.test",
        "message": "call c1: two\nlines",
        "node": "box-a",
        "call_id": "c1",
    }


def test_json_line_carries_the_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter("n").format(record))
    assert entry["exc"].startswith("Traceback") and "RuntimeError: boom" in entry["exc"]
