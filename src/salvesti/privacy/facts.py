"""What the running config says about the processing, gathered once for every privacy text.

The notice (Art. 13) and the record of processing (Art. 30) are rendered from these facts, and
the facts come from the same validated config ``salvesti run`` uses, so the documents cannot
say 60 days while the box deletes after 10.  Nothing here is legal judgement: it reports what
is configured and flags what is missing (no controller, a line with no retention limit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from salvesti.core.numbers import normalize_number

#: The retention key when the config names no line (a serial line without ``line:``, a test box).
ANY_LINE = "*"


@dataclass(frozen=True)
class RetentionTerm:
    """One retention rule as it applies to one line: ``days`` for the calls ``condition`` names."""

    days: int
    rule: str
    #: None = every remaining call of the line; else ("direction", "inbound") or ("number", "+372…").
    condition: tuple[str, str] | None = None


@dataclass(frozen=True)
class Recipient:
    #: ``storage`` (an S3 bucket), ``webhook``, ``mqtt`` or ``other`` (``salvesti.recipients``).
    kind: str
    where: str


@dataclass
class ProcessingFacts:
    controller_name: str | None
    controller_contact: str | None
    dpo: str | None
    purpose: str
    lawful_basis: str
    analysis_purpose: str | None
    analysis_lines: list[str] | None
    transcription: bool
    #: line → terms in the order they are tried (first match wins); a missing final
    #: unconditional term means some calls of the line are kept without a limit.
    retention: dict[str, list[RetentionTerm]] = field(default_factory=dict)
    recipients: list[Recipient] = field(default_factory=list)
    never_record: list[str] = field(default_factory=list)
    encrypted: bool = False
    tls: bool = False
    require_employee_notice: bool = False
    employee_notice_version: str | None = None
    employee_extensions: list[str] = field(default_factory=list)

    def unlimited_lines(self) -> list[str]:
        """Lines where some calls match no rule, i.e. are kept until someone deletes them."""
        return [
            line for line, terms in self.retention.items() if not terms or terms[-1].condition is not None
        ]


def _lines(config: dict[str, Any], country: str) -> list[str]:
    found: list[str] = []
    for source in config.get("sources") or []:
        values = list(source.get("lines") or [])
        if source.get("line"):
            values.append(source["line"])
        for value in values:
            line = normalize_number(str(value), country) or str(value)
            if line not in found:
                found.append(line)
    return found


def _extensions(config: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for source in config.get("sources") or []:
        for ext in source.get("extensions") or []:
            name = str(ext.get("user")) if isinstance(ext, dict) else str(ext)
            if name and name not in found:
                found.append(name)
    return found


def _numbers(value: Any, country: str) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [normalize_number(str(x), country) or str(x) for x in items]


def retention_for(line: str, rules: list[dict[str, Any]], country: str) -> list[RetentionTerm]:
    """The rules that can apply to ``line``, in order, up to the first that takes every call."""
    terms: list[RetentionTerm] = []
    for rule in rules:
        match = rule.get("match") or {}
        lines = _numbers(match.get("line"), country)
        if lines and line not in lines:
            continue
        conditions: list[tuple[str, str]] = []
        direction = match.get("direction")
        if direction:
            for d in direction if isinstance(direction, list) else [direction]:
                conditions.append(("direction", str(d)))
        for number in _numbers(match.get("number"), country):
            conditions.append(("number", number))
        days, rule_id = int(rule.get("days", 0)), str(rule.get("id", rule.get("platform", "")))
        if not conditions:
            terms.append(RetentionTerm(days, rule_id))
            break
        terms.extend(RetentionTerm(days, rule_id, c) for c in conditions)
    return terms


def _recipients(config: dict[str, Any], extra: list[str]) -> list[Recipient]:
    out: list[Recipient] = []
    for sink in config.get("sinks") or []:
        if sink.get("platform") == "s3":
            out.append(Recipient("storage", f"{sink.get('endpoint', '')} ({sink.get('bucket', '')})"))
    for item in config.get("integrations") or []:
        if item.get("platform") == "webhook":
            out.append(
                Recipient("webhook", urlsplit(str(item.get("url", ""))).netloc or str(item.get("url")))
            )
        elif item.get("platform") == "mqtt":
            out.append(Recipient("mqtt", str(item.get("broker", ""))))
    out.extend(Recipient("other", text) for text in extra)
    return out


def gather(config: dict[str, Any]) -> ProcessingFacts:
    """The facts of a validated config (``load_config``'s result)."""
    core = config.get("salvesti") or {}
    country = str(core.get("default_country", "EE"))
    controller = core.get("controller") or {}
    analysis = config.get("analysis") or None
    rules = [r for r in config.get("retention") or [] if r.get("platform") == "max_age"]
    return ProcessingFacts(
        controller_name=controller.get("name"),
        controller_contact=controller.get("contact"),
        dpo=controller.get("dpo"),
        purpose=str(core.get("purpose", "")),
        lawful_basis=str(core.get("lawful_basis") or "legitimate_interest"),
        analysis_purpose=analysis.get("purpose") if analysis else None,
        analysis_lines=_numbers(analysis.get("lines"), country) or None if analysis else None,
        transcription=bool(analysis and analysis.get("transcription")),
        retention={
            line: retention_for(line, rules, country) for line in _lines(config, country) or [ANY_LINE]
        },
        recipients=_recipients(config, list(core.get("recipients") or [])),
        never_record=list(core.get("never_record") or []),
        encrypted=any(s.get("encrypt") for s in config.get("sinks") or []),
        tls=bool((config.get("http") or {}).get("tls")),
        require_employee_notice=bool(core.get("require_employee_notice")),
        employee_notice_version=(core.get("employee_notice") or {}).get("version"),
        employee_extensions=_extensions(config),
    )
