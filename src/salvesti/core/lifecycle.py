"""Setup/unload of one configured item, with a visible state and retry with backoff.

Modelled on Home Assistant's config entries: a ``NotReady`` during setup schedules a retry
(5 s, doubling up to 5 min); ``AuthFailed`` and other errors are final until the config
changes.  The state is what ``source_status`` events and the health endpoint report.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from salvesti.core.errors import AuthFailed, NotReady

_LOGGER = logging.getLogger(__name__)


class State(StrEnum):
    NOT_LOADED = "not_loaded"
    SETUP_IN_PROGRESS = "setup_in_progress"
    LOADED = "loaded"
    SETUP_RETRY = "setup_retry"
    SETUP_ERROR = "setup_error"
    AUTH_FAILED = "auth_failed"
    FAILED_UNLOAD = "failed_unload"


class Entry:
    """One configured item (``sources[0]``, ``sinks[1]``, ...) and its running component."""

    RETRY_FIRST = 5.0
    RETRY_MAX = 300.0

    def __init__(
        self,
        kind: str,
        item_id: str,
        platform: str,
        component: Any,
        on_state: Callable[[Entry], None] | None = None,
    ) -> None:
        self.kind = kind
        self.id = item_id
        self.platform = platform
        self.component = component
        self.state = State.NOT_LOADED
        self.reason: str | None = None
        self._on_state = on_state
        self._retry_task: asyncio.Task[None] | None = None
        self._retry_delay = self.RETRY_FIRST

    @property
    def label(self) -> str:
        return f"{self.platform}({self.id})"

    def _set(self, state: State, reason: str | None = None) -> None:
        self.state = state
        self.reason = reason
        if self._on_state is not None:
            self._on_state(self)

    async def setup(self) -> bool:
        """Run the component's setup once; schedule a retry when it says NotReady."""
        self._set(State.SETUP_IN_PROGRESS)
        try:
            await self.component.async_setup()
        except NotReady as err:
            _LOGGER.warning("%s: not ready, retrying in %.0f s: %s", self.label, self._retry_delay, err)
            self._set(State.SETUP_RETRY, str(err))
            self._retry_task = asyncio.get_running_loop().create_task(
                self._retry_later(), name=f"retry {self.label}"
            )
            return False
        except AuthFailed as err:
            _LOGGER.error("%s: authentication failed: %s", self.label, err)
            self._set(State.AUTH_FAILED, str(err))
            return False
        except asyncio.CancelledError:
            raise
        except Exception as err:
            _LOGGER.exception("%s: setup failed", self.label)
            self._set(State.SETUP_ERROR, f"{type(err).__name__}: {err}")
            return False
        self._retry_delay = self.RETRY_FIRST
        self._set(State.LOADED)
        _LOGGER.info("%s: loaded", self.label)
        return True

    async def _retry_later(self) -> None:
        await asyncio.sleep(self._retry_delay)
        self._retry_delay = min(self._retry_delay * 2, self.RETRY_MAX)
        self._retry_task = None
        await self.setup()

    async def unload(self) -> None:
        """Cancel a pending retry, then unload the component if it was loaded."""
        if self._retry_task is not None:
            self._retry_task.cancel()
            try:
                await self._retry_task
            except asyncio.CancelledError:
                pass
            self._retry_task = None
        if self.state != State.LOADED:
            self._set(State.NOT_LOADED)
            return
        try:
            await self.component.async_unload()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            _LOGGER.exception("%s: unload failed", self.label)
            self._set(State.FAILED_UNLOAD, str(err))
            return
        self._set(State.NOT_LOADED)
