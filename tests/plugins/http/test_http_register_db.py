"""The employee register and subject requests (``AccountsDb.register()``) on both backends.

The same cases on the SQLite file and on PostgreSQL, through two independent handles where it
matters (``again`` of the accounts suite: a CLI beside the server, or a second node), so the
rules hold whichever process or node writes: one active employee per extension, an
acknowledgement is evidence and unique per version, an erasure leaves no readable number.
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from test_http_accounts_db import again  # noqa: F401  (the two-backend fixture)

from salvesti.plugins.http.employees_db import EmployeeError

NOW = "2026-11-29T10:00:00+02:00"


async def test_one_active_employee_per_extension_even_when_two_nodes_add_at_once(again):  # noqa: F811
    one, two = (await again()).register(), (await again()).register()
    results = await asyncio.gather(
        *[reg.add_employee(f"Person {i}", "101", NOW) for i, reg in enumerate([one, two] * 3)],
        return_exceptions=True,
    )
    added = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(added) == 1 and all(isinstance(r, EmployeeError) for r in refused), results
    assert str(refused[0]) == "extension 101 already has an employee; mark them as left first"
    with pytest.raises(EmployeeError, match="needs a name"):
        await one.add_employee(" ", "102", NOW)
    assert [e.name for e in await two.list_employees()] == [added[0].name]


async def test_acknowledgements_are_evidence_and_follow_the_active_employee(again):  # noqa: F811
    reg = (await again()).register()
    mari = await reg.add_employee(" Mari ", "101", NOW)
    kati = await reg.add_employee("Kati", "1-02", NOW)
    await reg.add_employee("Jaan", "A1", NOW)
    ack = await reg.acknowledge(
        mari.id, version="v1", method="paper", acknowledged_on="2026-11-01", recorded_by="admin", now=NOW
    )
    assert ack.to_json() == {
        "notice_version": "v1",
        "method": "paper",
        "acknowledged_on": "2026-11-01",
        "recorded_by": "admin",
        "recorded_at": NOW,
    }
    with pytest.raises(EmployeeError, match="already acknowledged"):
        await reg.acknowledge(
            mari.id, version="v1", method="web", acknowledged_on=NOW, recorded_by="x", now=NOW
        )
    with pytest.raises(EmployeeError, match="method must be"):
        await reg.acknowledge(
            mari.id, version="v2", method="fax", acknowledged_on=NOW, recorded_by="x", now=NOW
        )
    await reg.acknowledge(
        kati.id, version="v1", method="web", acknowledged_on=NOW, recorded_by="kati", now=NOW
    )
    assert await reg.acknowledged_extensions() == {"101": {"v1"}, "1-02": {"v1"}}
    assert [e.extension for e in await reg.list_employees()] == ["1-02", "101", "A1"]  # bytewise

    assert await reg.mark_left(kati.id, NOW) and not await reg.mark_left(kati.id, NOW)
    assert await reg.acknowledged_extensions() == {"101": {"v1"}}
    assert await reg.employee_for_extension("1-02") is None
    gone = await reg.get_employee(kati.id)
    assert gone is not None and gone.left_at == NOW and [a.method for a in gone.acks] == ["web"]
    assert [e.id for e in await reg.list_employees(include_left=True)][:1] == [kati.id]
    found = await reg.employee_for_extension("101")
    assert found is not None and found.name == "Mari" and found.ack_of("v1") is not None
    assert await reg.get_employee(10**12) is None


async def test_subject_requests_keep_deadlines_and_forget_an_erased_number(again):  # noqa: F811
    one, two = (await again()).register(), (await again()).register()
    export = await one.log_request("export", "+3725551001", date(2026, 1, 31), by="cli:x", now=NOW)
    erase = await two.log_request("erase", "+3725551001", date(2026, 3, 1), by="cli:y", now=NOW)
    other = await one.log_request("export", "+3725552002", date(2026, 2, 1), by="cli:x", now=NOW)
    assert export.deadline == date(2026, 2, 28)
    with pytest.raises(ValueError, match="kind must be"):
        await one.log_request("delete", "+3725551001", date(2026, 1, 1), by="x", now=NOW)
    assert [r.id for r in await two.open_requests("export", "+3725551001")] == [export.id]
    assert [r.id for r in await two.list_requests()] == [export.id, other.id, erase.id]  # by deadline

    assert await two.close_requests("export", "+3725551001", outcome="exported", now=NOW) == 1
    assert await one.close_requests("erase", "+3725551001", outcome="erased", now=NOW) == 1
    assert [r.id for r in await one.list_requests()] == [other.id]
    closed = {r.id: r for r in await one.list_requests(include_closed=True)}
    assert closed[erase.id].number == closed[export.id].number == "+37255…"  # masked everywhere
    assert closed[export.id].outcome == "exported" and closed[export.id].closed_at == NOW
    assert closed[other.id].number == "+3725552002"
    assert await one.open_requests("erase", "+3725551001") == []
