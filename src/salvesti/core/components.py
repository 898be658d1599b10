"""The interfaces that the hub expects from each kind of platform.

They are ``Protocol`` classes so that third-party plugins need not inherit anything: a
factory returns any object with these methods.  Keeping them in one place is what lets the
SIP source, the serial source, sinks and stores be written independently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from salvesti.core.call import Call, RecordingInfo

if TYPE_CHECKING:
    from salvesti.core.analysis.store import AnalysisStore


@runtime_checkable
class Component(Protocol):
    """Anything with a symmetric setup/unload pair."""

    async def async_setup(self) -> None: ...

    async def async_unload(self) -> None: ...


class CallSource(Component, Protocol):
    """Produces calls (``sources:``).  ``stop_intake`` refuses new calls at shutdown;
    ``active_calls`` lets the hub wait for them to end; ``hangup_all`` ends them."""

    id: str

    def stop_intake(self) -> None: ...

    def active_calls(self) -> int: ...

    async def hangup_all(self) -> None: ...


@dataclass
class CallQuery:
    """Filters for listing calls; ``cursor`` is the keyset (started_at, id) of the last row seen."""

    since: datetime | None = None
    until: datetime | None = None
    number: str | None = None
    direction: str | None = None
    line: str | None = None
    extension: str | None = None
    outcome: str | None = None
    tag: str | None = None
    q: str | None = None
    #: An analysis flag (``notice_unverified``, ``card_data``): calls the analysis flagged for review.
    flag: str | None = None
    #: A health reason (``no_recording``, ``channel_silent``, ...) or ``any``: unhealthy recordings.
    unhealthy: str | None = None
    limit: int = 100
    cursor: tuple[str, str] | None = None


class CallStore(Component, Protocol):
    """Keeps call objects and the deletion log (``store:``)."""

    async def save_call(self, call: Call) -> None: ...

    async def get_call(self, call_id: str) -> Call | None: ...

    async def list_calls(self, query: CallQuery) -> list[Call]: ...

    async def unfinished_calls(self) -> list[Call]: ...

    async def log_deletion(self, call: Call, *, rule: str, reason: str, when: datetime) -> None: ...

    @property
    def analysis(self) -> AnalysisStore:
        """The analysis queue, results and transcript search kept beside the calls."""
        ...


class RecordingWriter(Protocol):
    """An open recording: interleaved stereo s16le frames go in, in order, as they are ready."""

    path: Path

    def write_frames(self, frames: bytes) -> None: ...

    def flush(self) -> None: ...


class RecordingSink(Component, Protocol):
    """Stores recordings (``sinks:``).  Blocking file work runs off the event loop."""

    id: str
    format: str

    def open(self, call: Call, sample_rate: int) -> RecordingWriter: ...

    async def finalize(self, call: Call, writer: RecordingWriter) -> RecordingInfo: ...

    async def delete(self, call: Call) -> bool: ...

    async def repair(self, call: Call) -> RecordingInfo | None: ...


@dataclass
class RecordingStream:
    """Bytes of a stored recording as the API should answer them: status 200 (whole) or 206
    (``headers`` carry Content-Range), with Content-Length; ``chunks`` yields the body."""

    status: int
    headers: dict[str, str]
    chunks: AsyncIterator[bytes]


@runtime_checkable
class RecordingReader(Protocol):
    """A sink whose recordings are not (only) local files: it streams them, in byte ranges.

    ``open_recording`` is an async context manager giving a :class:`RecordingStream` for the
    HTTP ``Range`` header value (None: the whole file), or None when the recording is a local
    file after all (then the API serves ``recording.path`` itself).
    """

    def open_recording(
        self, call: Call, byte_range: str | None
    ) -> AbstractAsyncContextManager[RecordingStream | None]: ...


class NoticePlayer(Component, Protocol):
    """A recording notice (``notices:``): audio that tells the outside party."""

    id: str
    directions: list[str]
    lines: list[str] | None

    def pcm(self, sample_rate: int) -> bytes:
        """Mono signed 16-bit little-endian audio at ``sample_rate`` (cached)."""
        ...


class RetentionRule(Component, Protocol):
    """How long a call's recording is kept (``retention:``); first match wins."""

    id: str
    days: int

    def matches(self, call: Call) -> bool: ...


# -- capabilities that sources offer each other ----------------------------------------------
# A source that needs another source's help (the serial line ringing SIP phones) finds it by
# capability in ``hub.sources`` with ``isinstance(component, ExtensionRinger)``, never by
# importing the other integration: dependencies point inward, to these Protocols.


@runtime_checkable
class InsideConnection(Protocol):
    """An answered extension bridged to a call that another source owns.

    Audio is mono s16le at the ``sample_rate`` given to ``ring_extensions``: ``send`` takes
    what the outside party says (any length; it is framed and paced by the arrival of the
    audio), and the ``on_audio`` callback given to ``ring_extensions`` gets what the
    extension says.  ``ended`` is set when the extension hangs up (or its source stops);
    ``hangup`` ends the extension's side (idempotent).
    """

    extension: str
    ended: Any  # asyncio.Event

    def send(self, pcm: bytes) -> None: ...

    async def hangup(self) -> None: ...


@runtime_checkable
class ExtensionRinger(Protocol):
    """A source whose registered phones can be rung for a call of another source."""

    id: str

    def has_extensions(self, users: list[str]) -> bool:
        """True when any of ``users`` is an extension configured on this source."""
        ...

    async def ring_extensions(
        self,
        call: Call,
        users: list[str],
        *,
        on_audio: Any,  # Callable[[bytes], None]: the extension's audio
        ring_seconds: float,
        sample_rate: int = 8000,
    ) -> InsideConnection | str:
        """Ring every registration of ``users`` in parallel; the first to answer is bridged.

        Returns the connection, or why there is none: ``"no_answer"``, ``"busy"``,
        ``"not_registered"``, ``"failed"``.  The others that rang are cancelled.  The
        ``call`` belongs to the caller (its source saves it); this only adds the extension.
        """
        ...


@runtime_checkable
class Dialer(Protocol):
    """A source that can place an outbound call on request (``salvesti dial``, the API)."""

    id: str

    async def dial(self, number: str, *, extension: str | None = None) -> Call:
        """Start an outbound call to ``number``; returns the call once it has started
        (the call continues in the background: watch the bus for its end)."""
        ...


# -- an agent of another source (the browser phone) as the inside party of a call -----------


@runtime_checkable
class CallControl(Protocol):
    """What the agent may do to a bridged call that another source owns: keypad digits to
    the outside party (RFC 4733 on the call's own media path), hold and blind transfer.  Given to the agent
    through :meth:`AgentLink.progress` once the call is connected."""

    def dtmf(self, digit: str) -> bool:
        """Send ``digit`` (0-9, *, #, A-D) to the outside party; False when it cannot."""
        ...

    def hold(self, on: bool) -> None:
        """While on, the outside party hears silence and the agent hears nothing."""
        ...

    def transfer(self, extension: str) -> str:
        """Blind transfer to ``extension``: it rings and the agent leaves now; ``"ok"`` or why
        not (``not_now``, ``not_an_extension``, ``not_registered``)."""
        ...


@runtime_checkable
class AgentLink(InsideConnection, Protocol):
    """The agent's end (a browser tab) of a call whose outside party another source owns.

    It is an :class:`InsideConnection` (``send`` takes the outside party's audio, ``ended``
    is set when the agent hangs up) that also says where the agent's audio goes
    (``listen``, called once by the owner) and is told how the call goes: ``progress`` with
    ``"trying"``, ``"ringing"``, ``"answered"`` (the notice plays to the outside party now),
    ``"connected"`` (with the call's :class:`CallControl`) or ``"ended"``.
    """

    def listen(self, on_audio: Any) -> None:  # Callable[[bytes], None]
        ...

    def progress(self, state: str, control: CallControl | None = None, reason: str | None = None) -> None:
        ...


@runtime_checkable
class AgentDialer(Protocol):
    """A source that places outside calls for an extension another source owns: the
    ``sip_trunk`` source dialling out for a browser phone, over the extension's line."""

    id: str

    def lines_for_agents(self) -> list[str]:
        """The lines this source can call out on (the first is the default)."""
        ...

    async def dial_for(self, number: str, agent: AgentLink, *, line: str | None = None) -> Call:
        """Call ``number`` for ``agent``: the notice plays to the far end when it answers,
        then the agent is bridged; returns the call once it has started (it goes on in
        the background, ending when either side hangs up)."""
        ...


@runtime_checkable
class PhoneTabs(Protocol):
    """A source serving browser phones: the web UI hands it each ``/phone`` tab.

    The web UI authenticates the tab (session cookie, CSRF token, Origin) and checks the
    user's extension with ``serves``; the source gets the tab's decoded JSON messages and
    answers through ``send``.  ``page_host`` is the local address the page came in on
    (where the box's ICE candidates go), ``client`` the browser's address.
    """

    id: str

    def serves(self, extension: str) -> bool: ...

    def open_tab(
        self, *, user: str, extension: str, send: Any, page_host: str, client: str | None
    ) -> Any:  # send: Callable[[dict[str, Any]], None]; returns the tab handle
        ...

    async def receive(self, tab: Any, message: Any) -> None: ...

    async def close_tab(self, tab: Any) -> None: ...
