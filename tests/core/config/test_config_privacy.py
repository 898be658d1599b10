"""The legal keys of the ``salvesti:`` block: each problem at its own line, exactly worded."""

from __future__ import annotations

import pytest

from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError


def errors_of(path, plugins) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, plugins)
    return info.value.errors


def test_never_record_entries_are_normalised(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
          never_record: ["+372 612 3456", "+372112*"]
          controller: {name: "OÜ Näide", contact: "info@example.ee"}
          lawful_basis: contract
          employee_notice: {version: 2026-12-01}
          require_employee_notice: true
        http:
          listen: 127.0.0.1:8081
        """,
    )
    core = load_config(path, plugins)["salvesti"]
    assert core["never_record"] == ["+3726123456", "+372112*"]
    assert core["controller"] == {"name": "OÜ Näide", "contact": "info@example.ee"}
    assert core["employee_notice"] == {"version": "2026-12-01"}


def test_a_bad_never_record_entry_is_reported_at_its_line(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
          never_record:
            - "+3726123456"
            - "5551234"
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:5: salvesti.never_record[1]: '5551234' is not an international number: "
        "write it in E.164, e.g. '+3726123456'"
    ]


def test_require_employee_notice_needs_a_notice_version(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
          require_employee_notice: true
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:3: salvesti.require_employee_notice: needs salvesti.employee_notice: {version: ...} "
        "(the notice employees acknowledge)"
    ]


def test_controller_and_basis_are_checked(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
          lawful_basis: because
          controller: {name: "OÜ Näide"}
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:3: salvesti.lawful_basis: expected one of consent, contract, legal_obligation, "
        "legitimate_interest, got 'because'",
        "config.yaml:4: salvesti.controller: required key 'contact' not provided",
    ]


def test_require_employee_notice_needs_the_web_ui(write, plugins):
    path = write(
        "config.yaml",
        """
        salvesti:
          purpose: x
          employee_notice: {version: v1}
          require_employee_notice: true
        """,
    )
    assert errors_of(path, plugins) == [
        "config.yaml:4: salvesti.require_employee_notice: needs the http: block (employees acknowledge "
        "the notice in the web UI, and its database keeps the register); without it no call with an "
        "extension is recorded"
    ]
