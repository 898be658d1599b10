"""Gathering the facts for every check from a running hub.

Each family is gathered on its own and a family that raises becomes one failed check that
says so (``diag_internal``): the page is for finding trouble, it must not be the trouble.
Blocking work (disk usage, ``timedatectl``) runs in threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from salvesti.core.components import CallQuery
from salvesti.core.diagnostics import DiagnosticsSource, SourceDiagnostics
from salvesti.plugins.http.config_where import (
    component_where,
    extension_where,
    media_where,
    registration_where,
    retention_where,
)
from salvesti.plugins.http.diagnostics import clock, disk
from salvesti.plugins.http.diagnostics.carrier import nat_check, registration_check
from salvesti.plugins.http.diagnostics.check import Check, State, located
from salvesti.plugins.http.diagnostics.components import component_check
from salvesti.plugins.http.diagnostics.extensions import extension_check
from salvesti.plugins.http.diagnostics.media import media_check

_LOGGER = logging.getLogger(__name__)

#: At most this many calls are read to average the recorded bytes per day.
DISK_SAMPLE = 10000


def _loaded_sources(hub: Any) -> list[DiagnosticsSource]:
    loaded = {e.id for e in hub.entries if e.kind == "source" and str(e.state) == "loaded"}
    return [s for sid, s in hub.sources.items() if sid in loaded and isinstance(s, DiagnosticsSource)]


async def source_checks(hub: Any, facts: SourceDiagnostics) -> list[Check]:
    now = hub.now()
    marks = hub.config_marks
    out: list[Check] = []
    for reg in facts.registrations:
        where = registration_where(marks, facts.source, reg)
        out.append(located(registration_check(facts.source, reg, now), where))
        out.append(located(nat_check(facts.source, reg), where))
    listen = facts.extra.get("listen")
    for ext in facts.extensions:
        last = None
        if hub.store is not None:
            found = await hub.store.list_calls(CallQuery(extension=ext.user, limit=1))
            last = found[0] if found else None
        check = extension_check(facts.source, ext, last, listen=str(listen) if listen else None)
        out.append(located(check, extension_where(marks, facts.source, ext.user)))
    if facts.media is not None:
        check = media_check(facts.source, facts.platform, facts.media)
        out.append(located(check, media_where(marks, facts.source)))
    return out


async def disk_checks(hub: Any) -> list[Check]:
    folders = [(sid, Path(s.root)) for sid, s in hub.sinks.items() if getattr(s, "root", None)]
    if not folders:  # no local sink: the database and the upload spool live in data_dir
        folders = [("data_dir", Path(hub.data_dir))]
    now = hub.now()
    per_day = None
    if hub.store is not None:
        calls = await hub.store.list_calls(CallQuery(since=now - disk.WINDOW, limit=DISK_SAMPLE))
        per_day = disk.bytes_per_day(calls, now)
    longest = max(hub.retention_rules, key=lambda r: r.days, default=None)
    retention = longest.days if longest is not None else None
    where = retention_where(hub.config_marks, longest.id if longest is not None else None)
    out = []
    for sid, folder in folders:
        usage = await asyncio.to_thread(disk.disk_usage, folder)
        out.append(located(disk.disk_check(sid, str(folder), usage, per_day, retention), where))
    return out


async def clock_checks(hub: Any) -> list[Check]:
    synchronised, method = await asyncio.to_thread(clock.probe)
    return [clock.time_sync_check(synchronised, method, hub.now())]


async def component_checks(hub: Any) -> list[Check]:
    return [
        located(
            component_check(e.kind, e.id, e.platform, str(e.state), e.reason),
            component_where(hub.config_marks, e.kind, e.id),
        )
        for e in hub.entries
    ]


async def _guarded(family: str, gather: Callable[[], Awaitable[list[Check]]]) -> list[Check]:
    try:
        return await gather()
    except asyncio.CancelledError:
        raise
    except Exception as err:
        _LOGGER.exception("diagnostics: the %s checks failed", family)
        details = {"family": family, "error": f"{type(err).__name__}: {err}"}
        return [
            Check(f"internal.{family}", family, State.FAIL, "diag_internal_title", "diag_internal", details)
        ]


def _source_gatherer(hub: Any, source: DiagnosticsSource) -> Callable[[], Awaitable[list[Check]]]:
    async def gather() -> list[Check]:
        return await source_checks(hub, source.diagnostics())

    return gather


async def run_checks(hub: Any) -> list[Check]:
    """Every check, in the page's order: carrier and NAT, extensions and media (per source),
    disk, clock, components."""
    out: list[Check] = []
    for source in _loaded_sources(hub):
        out += await _guarded("sources", _source_gatherer(hub, source))
    out += await _guarded("disk", lambda: disk_checks(hub))
    out += await _guarded("clock", lambda: clock_checks(hub))
    out += await _guarded("components", lambda: component_checks(hub))
    return out
