"""The hub's view of the employee notice register: an in-memory copy, refreshed on change.

The hub asks per call, synchronously, whether an extension's employee acknowledged the
current notice (:class:`salvesti.core.recording_policy.EmployeeNotices`), so the answer must
come from memory.  Every route that changes the register calls :meth:`refresh` after its
write; the copy is loaded at setup.  A change made by another process (a second node on the
same PostgreSQL store, a CLI) is picked up by :meth:`follow`, which reloads the copy every
:data:`REFRESH_EVERY_S` seconds, so an employee who acknowledged through one node is recorded
by every node within that time.
"""

from __future__ import annotations

import asyncio
import logging

from salvesti.plugins.http.register_db import RegisterDb

_LOGGER = logging.getLogger(__name__)

#: How often the copy is reloaded for changes made elsewhere (a cheap indexed query).
REFRESH_EVERY_S = 15.0


class EmployeeRegister:
    """Implements ``EmployeeNotices`` from the ``http_employees`` tables."""

    def __init__(self) -> None:
        self._acks: dict[str, frozenset[str]] = {}

    def acknowledged(self, extension: str, version: str) -> bool:
        return version in self._acks.get(extension, frozenset())

    async def refresh(self, register: RegisterDb) -> None:
        found = await register.acknowledged_extensions()
        # one assignment: a call asking meanwhile sees the old copy or the new one, never half
        self._acks = {ext: frozenset(versions) for ext, versions in found.items()}

    async def follow(self, register: RegisterDb, every: float | None = None) -> None:
        """Forever (a hub task): reload the copy; a failed reload keeps the last good copy."""
        while True:
            await asyncio.sleep(REFRESH_EVERY_S if every is None else every)
            try:
                await self.refresh(register)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the database away for a moment: the old copy stands
                _LOGGER.warning("employee register: could not reload (%s); keeping the last copy", err)
