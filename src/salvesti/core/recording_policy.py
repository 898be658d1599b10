"""Calls the law says must not be recorded, decided per call before any audio is written.

Two rules live here, both from the ``salvesti:`` block:

- ``never_record``: outside numbers that are never recorded (a doctor, a union, a private
  line): exact E.164 numbers or prefixes ending in ``*``.  Such calls are still listed, so the
  box is honest about what happened, but nothing of them is recorded or analysed.
- ``require_employee_notice``: employees must be told before their calls are recorded.  A call
  is recorded only when every extension that took part acknowledged the *current* version of
  the employee privacy notice (``employee_notice.version``).

The register of acknowledgements belongs to whichever plugin keeps people (the web UI's
database), so the core knows it only as the :class:`EmployeeNotices` capability; the hub asks
it once per call, synchronously, so an implementation answers from memory.

A refused call gets ``recording: null`` and ``meta.not_recorded = {"reason", "detail", ...}``
(see :meth:`Refusal.to_json`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from salvesti.core.call import Call
from salvesti.core.numbers import normalize_number


class NotRecordedReason(StrEnum):
    """Why a call was not recorded (``meta.not_recorded.reason``)."""

    NEVER_RECORD = "never_record"
    EMPLOYEE_NOTICE = "employee_notice"


@runtime_checkable
class EmployeeNotices(Protocol):
    """Who acknowledged which employee notice version: asked per call, so it must be cheap
    (an in-memory answer, never a database round trip)."""

    def acknowledged(self, extension: str, version: str) -> bool:
        """True when the employee using ``extension`` acknowledged notice ``version``."""
        ...


@dataclass(frozen=True)
class Refusal:
    """A decision not to record one call, with what the call object says about it."""

    reason: NotRecordedReason
    detail: str
    #: The ``never_record`` entry that matched, or the unacknowledged extensions.
    rule: str | None = None
    extensions: tuple[str, ...] = ()
    notice_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": str(self.reason), "detail": self.detail}
        if self.rule is not None:
            out["rule"] = self.rule
        if self.extensions:
            out["extensions"] = list(self.extensions)
        if self.notice_version is not None:
            out["notice_version"] = self.notice_version
        return out


def parse_number_rule(text: object) -> str:
    """``+372 612 3456`` → ``+3726123456``; ``+372112*`` stays a prefix.

    Entries must be international (``+`` or ``00``): a national ``5*`` would silently depend
    on ``default_country``.  Raises ValueError saying what is wrong, so the config names the line.
    """
    raw = str(text).strip()
    prefix = raw.endswith("*")
    body = raw[:-1] if prefix else raw
    what = "prefix" if prefix else "number"
    if not body or "*" in body:
        raise ValueError(f"{raw!r} is not a phone number or a prefix ending in '*' (e.g. '+372112*')")
    number = normalize_number(body)
    if number is None or not body.startswith(("+", "00")) or not number[1:].isdigit():
        raise ValueError(f"{raw!r} is not an international {what}: write it in E.164, e.g. '+3726123456'")
    return number + ("*" if prefix else "")


@dataclass
class NumberRules:
    """Exact numbers and prefixes (entries ending in ``*``), already normalised to E.164."""

    rules: list[str] = field(default_factory=list)

    def match(self, number: str | None) -> str | None:
        """The first rule ``number`` (E.164) matches, or None."""
        if not number:
            return None
        for rule in self.rules:
            if rule.endswith("*"):
                if number.startswith(rule[:-1]):
                    return rule
            elif number == rule:
                return rule
        return None


class RecordingPolicy:
    """The two rules above, evaluated for one call (a pure function of the call and the register)."""

    def __init__(
        self,
        never_record: Iterable[str] = (),
        *,
        require_employee_notice: bool = False,
        notice_version: str | None = None,
    ) -> None:
        self.never_record = NumberRules(list(never_record))
        self.require_employee_notice = require_employee_notice
        self.notice_version = notice_version
        #: The register, provided by a plugin at setup; None = nobody acknowledged anything.
        self.employee_notices: EmployeeNotices | None = None

    @classmethod
    def from_config(cls, core: dict[str, Any]) -> RecordingPolicy:
        notice = core.get("employee_notice") or {}
        return cls(
            [parse_number_rule(x) for x in core.get("never_record") or []],
            require_employee_notice=bool(core.get("require_employee_notice")),
            notice_version=notice.get("version"),
        )

    def refusal(self, call: Call) -> Refusal | None:
        """Why ``call`` must not be recorded, or None when it may be."""
        rule = self.never_record.match(call.remote_number)
        if rule is not None:
            detail = "the number is on salvesti.never_record"
            return Refusal(NotRecordedReason.NEVER_RECORD, detail, rule=rule)
        if self.require_employee_notice:
            missing = tuple(ext for ext in call.extensions if not self._acknowledged(ext))
            if missing:
                return Refusal(
                    NotRecordedReason.EMPLOYEE_NOTICE,
                    f"extension {', '.join(missing)} has not acknowledged employee notice "
                    f"{self.notice_version}",
                    extensions=missing,
                    notice_version=self.notice_version,
                )
        return None

    def _acknowledged(self, extension: str) -> bool:
        register, version = self.employee_notices, self.notice_version
        if register is None or version is None:
            return False
        return register.acknowledged(extension, version)
