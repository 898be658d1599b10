"""The rules users see in Home Assistant, without a broker: masking, parallel calls, missed, midnight."""

from __future__ import annotations

from datetime import date

import pytest

from salvesti.integrations.mqtt.discovery import Topics, line_key, slug
from salvesti.integrations.mqtt.tracker import CallTracker, mask_number, shown_number

DAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+3725551234", "+372*****34"),  # Estonian mobile: country code and the last two
        ("+37255512345", "+372******45"),
        ("+4915123456789", "+4915*******89"),
        ("+15551234567", "+155******67"),
        ("55512345", "55****45"),  # national, 8 digits: two visible at the front
        ("123456", "1***56"),
        ("12345", "***45"),
        ("101", "101"),  # an internal extension is not a personal number
        ("alice", "a***"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_mask_number(number, masked):
    assert mask_number(number) == masked


def test_masking_hides_at_least_half_of_every_long_number():
    for length in range(5, 16):
        number = "+" + "7" * length
        assert mask_number(number).count("*") >= length / 2


def test_shown_number_per_mode():
    assert shown_number("+3725551234", "full") == "+3725551234"
    assert shown_number("+3725551234", "masked") == "+372*****34"
    assert shown_number("+3725551234", "none") is None
    assert shown_number(None, "full") == "unknown"


def call(call_id: str, **kw) -> dict:
    base = {
        "id": call_id,
        "line": "+3726000000",
        "direction": "inbound",
        "remote_number": "+3725551234",
        "started_at": "2026-11-29T10:00:00+02:00",
        "answered_at": None,
        "ended_at": None,
        "duration_s": None,
        "disposition": None,
    }
    return {**base, **kw}


def ended(data: dict, disposition: str) -> dict:
    return {**data, "ended_at": "2026-11-29T10:01:00+02:00", "disposition": disposition}


def test_line_stays_active_until_the_last_parallel_call_ends():
    tracker = CallTracker("masked", DAY, line_key)
    first = tracker.started(call("a"))
    assert first.new_line
    assert first.line.payload() == {
        "call_active": "ON",
        "active_calls": 1,
        "call_state": "ringing",
        "calls_today": 1,
        "missed_today": 0,
        "recording_paused": "OFF",
    }
    assert not tracker.started(call("b")).new_line
    tracker.answered(call("a", answered_at="2026-11-29T10:00:05+02:00"))
    line = tracker.lines["3726000000"]
    assert (line.call_state, len(line.active)) == ("talking", 2)
    tracker.ended(ended(call("a", answered_at="2026-11-29T10:00:05+02:00"), "answered"))
    assert (line.payload()["call_active"], line.call_state) == ("ON", "ringing")
    update = tracker.ended(ended(call("b"), "no_answer"))
    assert update.line.payload() == {
        "call_active": "OFF",
        "active_calls": 0,
        "call_state": "idle",
        "calls_today": 2,
        "missed_today": 1,
        "recording_paused": "OFF",
    }
    assert [e["event_type"] for e in update.events] == ["missed", "ended"]


def test_repeated_and_unknown_events_do_not_miscount():
    tracker = CallTracker("masked", DAY, line_key)
    tracker.started(call("a"))
    tracker.started(call("a"))  # a source that reports twice
    assert tracker.lines["3726000000"].calls_today == 1
    tracker.ended(ended(call("zzz"), "answered"))  # began before we started listening
    assert len(tracker.lines["3726000000"].active) == 1
    tracker.answered(call("late"))  # answered, never seen starting: still counts as busy
    assert tracker.lines["3726000000"].call_state == "talking"


@pytest.mark.parametrize(
    ("direction", "disposition", "missed"),
    [
        ("inbound", "no_answer", True),
        ("inbound", "busy", True),
        ("inbound", "cancelled", True),
        ("inbound", "failed", True),
        ("inbound", "answered", False),
        ("outbound", "no_answer", False),
        ("internal", "no_answer", False),
    ],
)
def test_what_counts_as_missed(direction, disposition, missed):
    tracker = CallTracker("masked", DAY, line_key)
    update = tracker.ended(ended(call("a", direction=direction), disposition))
    assert ("missed" in [e["event_type"] for e in update.events]) is missed
    assert update.last_call["missed"] is missed
    assert update.line.missed_today == int(missed)


def test_outbound_start_is_outgoing_and_calls_without_a_line_are_skipped():
    tracker = CallTracker("none", DAY, line_key)
    update = tracker.started(call("a", direction="outbound"))
    assert update.events == [
        {"event_type": "outgoing", "call_id": "a", "line": "+3726000000", "direction": "outbound"}
    ]
    assert update.last_call["display"] == "outbound"
    assert "number" not in update.last_call
    assert tracker.started(call("b", line=None)) is None


def test_counters_reset_at_midnight_and_seed_from_the_store():
    tracker = CallTracker("masked", DAY, line_key)
    tracker.seed([ended(call("a"), "no_answer"), call("b"), ended(call("c", line=None), "busy")])
    line = tracker.lines["3726000000"]
    assert (line.calls_today, line.missed_today) == (2, 1)
    assert tracker.roll_day(DAY) == []
    assert tracker.roll_day(date(2026, 11, 30)) == [line]
    assert (line.calls_today, line.missed_today) == (0, 0)


def test_recording_saved_event_and_hub_payload():
    tracker = CallTracker("masked", DAY, line_key)
    data = ended(call("a"), "answered")
    data["recording"] = {"path": "/secret/path.wav", "duration_s": 12.5}
    update = tracker.recording_saved(data)
    assert update.last_call is None
    assert update.events == [
        {
            "event_type": "recording_saved",
            "call_id": "a",
            "line": "+3726000000",
            "direction": "inbound",
            "number": "+372*****34",
            "recording_duration_s": 12.5,
        }
    ]
    tracker.source_status({"id": "telia", "state": "setup_retry", "reason": "403 Forbidden"})
    tracker.purged("2026-11-29T03:00:00+02:00")
    assert tracker.hub_payload() == {
        "sources": {"telia": {"state": "setup_retry", "reason": "403 Forbidden", "connected": "OFF"}},
        "last_retention_purge": "2026-11-29T03:00:00+02:00",
    }


def test_topics_and_ids():
    topics = Topics("homeassistant", "office/salvesti", "ha")
    assert topics.node == "office_salvesti_ha"
    assert topics.availability == "office/salvesti/ha/status"
    assert topics.line_config("3726000000") == "homeassistant/device/office_salvesti_ha_3726000000/config"
    assert topics.event("3726000000") == "office/salvesti/ha/line/3726000000/event"
    assert topics.birth == "homeassistant/status"
    assert line_key("+372 600 0000") == "3726000000"
    assert slug("+") == "x"


def test_recording_unhealthy_event_names_reasons_and_channels_not_details():
    tracker = CallTracker("masked", DAY, line_key)
    data = ended(call("a"), "answered")
    data["health"] = [
        {"reason": "channel_silent", "channel": "heard", "detail": "peak -60 dBFS"},
        {"reason": "no_recording", "channel": None, "detail": "disk full: /secret/path.wav"},
    ]
    update = tracker.recording_unhealthy(data)
    assert update.last_call is None
    assert update.events == [
        {
            "event_type": "recording_unhealthy",
            "call_id": "a",
            "line": "+3726000000",
            "direction": "inbound",
            "number": "+372*****34",
            "reasons": ["channel_silent", "no_recording"],
            "channels": ["heard"],
        }
    ]
