"""The max_age rule: which calls it matches and how its config is validated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import voluptuous as vol

from salvesti.core.call import Call, Direction
from salvesti.plugins.retention_max_age import SCHEMA, MaxAgeRule


def call(direction=Direction.INBOUND, line="+3726000000", remote="+3725551234") -> Call:
    start = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    return Call("c1", "office", direction, line, remote, start, ended_at=start + timedelta(minutes=3))


def rule(match: dict, days: int = 10) -> MaxAgeRule:
    conf = SCHEMA({"platform": "max_age", "id": "r", "days": days, "match": match})
    return MaxAgeRule(conf["id"], conf["days"], conf["match"], "EE")


def test_no_match_block_matches_everything():
    assert rule({}).matches(call())
    assert rule({}).matches(call(Direction.INTERNAL, line=None, remote="102"))


def test_line_and_number_compare_in_e164():
    assert rule({"line": "6000000"}).matches(call())
    assert rule({"line": 3726000000}).matches(call())  # YAML reads +3726000000 as an int
    assert not rule({"line": "+3726000001"}).matches(call())
    assert rule({"number": ["+3720000000", "5551234"]}).matches(call())
    assert not rule({"number": "5551235"}).matches(call())
    assert not rule({"line": "+3726000000"}).matches(call(line=None))


def test_direction_and_all_conditions_must_match():
    r = rule({"line": "+3726000000", "direction": "outbound"})
    assert r.matches(call(Direction.OUTBOUND))
    assert not r.matches(call(Direction.INBOUND))
    assert rule({"direction": ["inbound", "internal"]}).matches(call(Direction.INTERNAL))


def test_days_set_delete_after_from_ended_at():
    c = call()
    r = rule({}, days=60)
    c.set_delete_after(r.days, r.id)
    assert c.retention.delete_after == c.ended_at + timedelta(days=60)
    assert c.retention.rule == "r"


@pytest.mark.parametrize(
    "conf",
    [
        {"platform": "max_age", "id": "r"},
        {"platform": "max_age", "id": "r", "days": -1},
        {"platform": "max_age", "id": "r", "days": 1, "match": {"lines": "x"}},
        {"platform": "max_age", "id": "r", "days": 1, "match": {"direction": "sideways"}},
    ],
)
def test_schema_rejects(conf):
    with pytest.raises(vol.Invalid):
        SCHEMA(conf)
