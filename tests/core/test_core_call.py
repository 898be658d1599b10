"""The call object keeps CONTRACT's field names and survives a JSON round trip."""

from datetime import UTC, datetime, timedelta

from salvesti.core.call import Call, Direction, Disposition, RecordingInfo, new_call_id

CONTRACT_FIELDS = {
    "id",
    "source",
    "direction",
    "line",
    "remote_number",
    "extension",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_s",
    "disposition",
    "recording",
    "notice",
    "retention",
    "outcome",
    "tags",
    "notes",
}


def make_call() -> Call:
    t0 = datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC)
    call = Call(
        id=new_call_id(t0),
        source="telia",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number="+3725551234",
        started_at=t0,
    )
    call.answered_at = t0 + timedelta(seconds=3)
    call.ended_at = t0 + timedelta(seconds=63.5)
    call.disposition = Disposition.ANSWERED
    call.recording = RecordingInfo(path="/tmp/x.wav", duration_s=60.5, bytes=10, sha256="ab")
    call.add_extension("101")
    call.add_extension("102")
    call.set_delete_after(10, "default")
    return call


def test_json_has_contract_fields_and_round_trips() -> None:
    call = make_call()
    data = call.to_json()
    assert CONTRACT_FIELDS <= set(data)
    assert set(data["recording"]) >= {
        "path",
        "format",
        "sample_rate",
        "channels",
        "duration_s",
        "bytes",
        "sha256",
    }
    assert set(data["notice"]) >= {"played", "name", "played_at"}
    assert set(data["retention"]) >= {"delete_after", "legal_hold"}
    assert data["duration_s"] == 60.5
    assert data["started_at"] == "2026-11-29T10:00:00+00:00"
    assert data["retention"]["delete_after"] == "2026-12-09T10:01:03.500000+00:00"
    assert Call.from_json(data).to_json() == data


def test_extension_is_first_and_extensions_lists_all() -> None:
    call = make_call()
    assert call.extension == "101"
    assert call.extensions == ["101", "102"]


def test_duration_is_none_until_answered_and_ended() -> None:
    call = make_call()
    call.answered_at = None
    assert call.duration_s is None
