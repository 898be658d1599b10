"""The hub's view of the employee notice register: an in-memory copy, refreshed on change.

The hub asks per call, synchronously, whether an extension's employee acknowledged the
current notice (:class:`salvesti.core.recording_policy.EmployeeNotices`), so the answer must
come from memory.  Every route that changes the register calls :meth:`refresh` after its
write; the copy is loaded at setup.  A change made by another process (a second node, a CLI)
is seen after that process's own refresh, or at the next start.
"""

from __future__ import annotations

from salvesti.plugins.http.register_db import RegisterDb


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
