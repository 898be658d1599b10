"""Work a component keeps waiting, as ``/metrics`` reports it (``salvesti_queue_length``).

A component with a backlog (the webhook outbox, an object-store sink's local spool) says how
long it is through :class:`QueueReporter`, so the metrics find every queue with one
``isinstance`` check instead of knowing each integration's insides.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class QueueReporter(Protocol):
    """A component that can count the items it still has to do."""

    #: The ``queue`` label, e.g. ``webhook:crm`` or ``spool:s3``.
    queue_name: str

    async def queue_length(self) -> int:
        """Items waiting now (cheap: called at every scrape, under a deadline)."""
        ...
