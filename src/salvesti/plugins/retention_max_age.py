"""The ``max_age`` retention rule: keep a recording for ``days`` after the call ended.

``match`` narrows the rule to a line, a remote number and/or a direction (all given must
match); numbers are compared in E.164 so ``6000000`` in the config matches ``+3726000000``
on the call.  Rules are tried in config order; the first that matches sets the call's
``delete_after`` (see ``Hub.apply_retention``).
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from salvesti.core.call import Call
from salvesti.core.numbers import normalize_number
from salvesti.core.plugins import Platform, hookimpl


def _numbers(value: Any) -> list[str]:
    """One number or a list of them; YAML reads an unquoted +372... as an int, so accept ints."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
            raise vol.Invalid("expected a phone number or a list of them")
        out.append(str(item).strip())
    return out


MATCH_SCHEMA = vol.Schema(
    {
        vol.Optional("line"): _numbers,
        vol.Optional("number"): _numbers,
        vol.Optional("direction"): vol.Any(
            vol.In(["inbound", "outbound", "internal"]), [vol.In(["inbound", "outbound", "internal"])]
        ),
    }
)

SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "max_age",
        vol.Required("id"): str,
        vol.Optional("match", default=dict): MATCH_SCHEMA,
        vol.Required("days"): vol.All(int, vol.Range(min=0, max=36500)),
    }
)


class MaxAgeRule:
    """A :class:`~salvesti.core.components.RetentionRule`: ``days`` after the call ended."""

    def __init__(self, rule_id: str, days: int, match: dict[str, Any], default_country: str = "EE") -> None:
        self.id = rule_id
        self.days = days
        self.default_country = default_country
        self.lines = {self._norm(n) for n in match.get("line", [])}
        self.numbers = {self._norm(n) for n in match.get("number", [])}
        direction = match.get("direction")
        self.directions = set([direction] if isinstance(direction, str) else direction or [])

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> MaxAgeRule:
        return cls(conf["id"], conf["days"], conf.get("match") or {}, hub.default_country)

    def _norm(self, number: str | None) -> str | None:
        return normalize_number(number, self.default_country)

    def matches(self, call: Call) -> bool:
        if self.lines and self._norm(call.line) not in self.lines:
            return False
        if self.numbers and self._norm(call.remote_number) not in self.numbers:
            return False
        return not (self.directions and str(call.direction) not in self.directions)

    async def async_setup(self) -> None:
        """Nothing to open: a rule is pure configuration."""

    async def async_unload(self) -> None:
        """Nothing to close."""

    def __repr__(self) -> str:
        return f"max_age({self.id}: {self.days} days)"


@hookimpl
def register_retention_rules(register: Any) -> None:
    register(
        Platform(
            kind="retention",
            name="max_age",
            schema=SCHEMA,
            factory=MaxAgeRule.from_config,
            description="Delete a call's recording a number of days after the call ended",
        )
    )
