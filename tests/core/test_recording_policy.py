"""The recording policy with the real hub, store and local sink: never_record numbers and
employees who were not informed are not recorded, the call says why, and notice_for picks a
notice by the caller's prefix."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from salvesti.core.call import Call, Direction, new_call_id
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.core.recording import CallRecording
from salvesti.core.recording_policy import NumberRules, RecordingPolicy, parse_number_rule

FRAME = np.full(160, 1234, "<i2").tobytes()


class Register:
    """A real in-memory EmployeeNotices: extension → acknowledged versions."""

    def __init__(self, acks: dict[str, set[str]]) -> None:
        self.acks = acks

    def acknowledged(self, extension: str, version: str) -> bool:
        return version in self.acks.get(extension, set())


def make_hub(tmp_path, **core) -> Hub:
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    conf = {
        "salvesti": {"data_dir": str(tmp_path / "data"), "purpose": "test", **core},
        "store": {"platform": "sqlite"},
        "sinks": [{"platform": "local", "id": "disk", "path": "rec", "format": "wav"}],
    }
    return Hub(conf, config_path=tmp_path / "config.yaml", plugins=plugins)


def call_of(hub: Hub, number: str = "+3725551234", ext: str | None = None, **kw) -> Call:
    now = hub.now()
    call = Call(
        new_call_id(now),
        "test",
        kw.pop("direction", Direction.INBOUND),
        "+3726000000",
        number,
        now,
        answered_at=now,
    )
    if ext:
        call.add_extension(ext)
    return call


@pytest.mark.parametrize(
    ("text", "expected"),
    [("+372 612 3456", "+3726123456"), ("+372112*", "+372112*"), ("00372112*", "+372112*"), ("+7*", "+7*")],
)
def test_number_rules_are_normalised_to_e164(text, expected):
    assert parse_number_rule(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5551234", "'5551234' is not an international number: write it in E.164, e.g. '+3726123456'"),
        ("+37*2", "'+37*2' is not a phone number or a prefix ending in '*' (e.g. '+372112*')"),
        ("112*", "'112*' is not an international prefix: write it in E.164, e.g. '+3726123456'"),
    ],
)
def test_a_bad_number_rule_says_why(text, message):
    with pytest.raises(ValueError) as info:
        parse_number_rule(text)
    assert str(info.value) == message


def test_exact_numbers_and_prefixes_match():
    rules = NumberRules(["+3726123456", "+372112*"])
    assert rules.match("+3726123456") == "+3726123456"
    assert rules.match("+37261234567") is None  # exact means exact
    assert rules.match("+3721120000") == "+372112*"
    assert rules.match(None) is None


def test_employee_rule_needs_every_extension_acknowledged(tmp_path):
    hub = make_hub(tmp_path)
    policy = RecordingPolicy(require_employee_notice=True, notice_version="2026-12")
    call = call_of(hub, ext="101")
    assert policy.refusal(call).reason == "employee_notice"  # no register at all: nobody is informed
    policy.employee_notices = Register({"101": {"2026-12"}, "102": {"2026-01"}})
    assert policy.refusal(call) is None
    call.add_extension("102")  # transferred to someone who saw only an old version
    refusal = policy.refusal(call)
    assert refusal.to_json() == {
        "reason": "employee_notice",
        "detail": "extension 102 has not acknowledged employee notice 2026-12",
        "extensions": ["102"],
        "notice_version": "2026-12",
    }
    assert policy.refusal(call_of(hub)) is None  # a call no extension took part in (a message)


async def test_a_never_record_call_is_listed_but_not_recorded(tmp_path):
    hub = make_hub(tmp_path, never_record=["+372112*"])
    await hub.async_start()
    try:
        call = call_of(hub, "+3721123333")
        assert hub.should_record(call) is False
        assert call.meta["not_recorded"] == {
            "reason": "never_record",
            "detail": "the number is on salvesti.never_record",
            "rule": "+372112*",
        }
        await hub.call_started(call)
        await hub.call_ended(call, None)
        stored = await hub.store.get_call(call.id)
        assert stored.recording is None and stored.meta["not_recorded"]["reason"] == "never_record"
        assert stored.health == []  # not recorded on purpose is not a broken recording
        other = call_of(hub, "+3725550000")
        assert hub.should_record(other) is True and "not_recorded" not in other.meta
        internal = call_of(hub, "+3721120001", direction=Direction.INTERNAL)
        assert hub.should_record(internal) is False  # not recorded anyway: nothing to explain
        assert "not_recorded" not in internal.meta
    finally:
        await hub.async_stop(call_timeout=0)


async def test_an_inbound_call_answered_by_an_uninformed_employee_loses_its_recording(tmp_path):
    """The recording starts before a phone answers; once the extension is known, it goes."""
    hub = make_hub(tmp_path, require_employee_notice=True, employee_notice={"version": "v2"})
    await hub.async_start()
    hub.provide_employee_notices(Register({"101": {"v2"}}))
    try:
        for ext, kept in (("101", True), ("102", False)):
            call = call_of(hub)
            assert hub.should_record(call)
            await hub.call_started(call)
            rec = CallRecording(hub, call, hub.default_sink())
            t0 = hub.monotonic()
            rec.start(t0)
            for i in range(10):
                rec.put(0, FRAME, t0 + i * 0.02)
            call.add_extension(ext)  # the phone that answered
            await asyncio.sleep(0)
            await hub.call_ended(call, rec)
            stored = await hub.store.get_call(call.id)
            if kept:
                assert stored.recording.status == "saved" and "not_recorded" not in stored.meta
            else:
                assert stored.recording is None
                assert stored.meta["not_recorded"]["extensions"] == ["102"]
                assert not list((tmp_path / "data" / "rec").rglob(f"{call.id}*")), "the file must be gone"
    finally:
        await hub.async_stop(call_timeout=0)


def test_notice_for_prefers_the_callers_prefix(tmp_path):
    hub = make_hub(tmp_path)

    class Notice:
        def __init__(self, nid, callers=None, directions=("inbound", "outbound")):
            self.id, self.callers, self.directions, self.lines = nid, callers, list(directions), None

    hub.notices = {
        "et": Notice("et"),
        "ru": Notice("ru", ["+7", "+375"]),
        "by": Notice("by", ["+375 29".replace(" ", "")]),
    }
    assert hub.notice_for(call_of(hub, "+79161234567")).id == "ru"
    assert hub.notice_for(call_of(hub, "+375291234567")).id == "by"  # the longest prefix wins
    assert hub.notice_for(call_of(hub, "+375171234567")).id == "ru"
    assert hub.notice_for(call_of(hub, "+3725551234")).id == "et"
    assert hub.notice_for(call_of(hub, None)).id == "et"  # check-config's probe: the default notice
    refused = call_of(hub, "+79161234567")
    refused.meta["not_recorded"] = {"reason": "never_record"}
    assert hub.notice_for(refused) is None  # not recorded: not told it is
