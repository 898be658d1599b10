"""The hub: the running application that owns every configured component.

Sources, sinks, notices, retention rules, the store and integrations are built from the
validated config through their platforms, set up in dependency order (store → sinks →
notices → retention → integrations → sources) and unloaded in reverse.  Sources report call
progress through the ``call_*`` methods here, which persist the call, publish bus events and
finalise recordings, so that every source gets the same guarantees for free.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from salvesti.core import bus as events
from salvesti.core import health
from salvesti.core.bus import EventBus
from salvesti.core.call import Call, Disposition
from salvesti.core.components import CallStore, NoticePlayer, RecordingSink, RetentionRule
from salvesti.core.config.marks import ConfigMarks
from salvesti.core.cycles import CycleCollector
from salvesti.core.lifecycle import Entry, State
from salvesti.core.numbers import normalize_number
from salvesti.core.plugins import PluginManager
from salvesti.core.recording_policy import EmployeeNotices, RecordingPolicy, Refusal

_LOGGER = logging.getLogger(__name__)

#: Order in which kinds are set up; unload runs in reverse.
SETUP_ORDER = ("store", "sink", "notice", "retention", "integration", "source")
#: The config's list block that holds each kind of component.
CONFIG_BLOCKS = {
    "sink": "sinks",
    "notice": "notices",
    "retention": "retention",
    "integration": "integrations",
    "source": "sources",
}


class Hub:
    """Owns the config, the bus, the plugin manager, every component and every background task."""

    def __init__(
        self,
        config: dict[str, Any],
        *,
        config_path: Path,
        plugins: PluginManager,
        marks: ConfigMarks | None = None,
    ) -> None:
        self.config = config
        #: Where each setting was written (``config.yaml:LINE``), for pages that cannot edit it.
        self.config_marks = marks or ConfigMarks.unknown()
        self.config_path = config_path
        self.config_dir = config_path.parent
        self.plugins = plugins
        self.bus = EventBus()
        core = config.get("salvesti", {})
        self.tz = ZoneInfo(core.get("timezone", "Europe/Tallinn"))
        self.default_country: str = core.get("default_country", "EE")
        self.purpose: str = core.get("purpose", "")
        #: This process's name among the nodes sharing one store; stamped on the calls it takes.
        self.node: str = core.get("node") or socket.gethostname()
        self.shutdown_grace: float = float(core.get("shutdown_grace", 5))
        self.data_dir = self.path(core.get("data_dir", "./data"))
        self.health_limits = health.Limits.from_config(core.get("health"))
        self.pause_max_s: float = float(core.get("pause_max_s", 300))
        #: Keys a desk phone presses to pause and resume its call's recording (None: off).
        self.pause_code: str | None = core.get("pause_code")
        #: Calls the law says must not be recorded (never_record, employees not yet informed).
        self.policy = RecordingPolicy.from_config(core)
        #: Recordings in progress by call id (the API's pause and resume find them here).
        self.recordings: dict[str, Any] = {}
        #: Frees finished calls' reference cycles every few calls (salvesti.core.cycles).
        self.cycles = CycleCollector()
        #: Where the master key of encrypted sinks lives (``salvesti keys init`` writes it).
        self.key_file = self.path(core.get("key_file", "salvesti.key"))
        #: The data keys of encrypted recordings; loaded at start when a sink encrypts.
        self.keyring: Any = None
        self.entries: list[Entry] = []
        self.store: CallStore | None = None
        self.sinks: dict[str, RecordingSink] = {}
        self.notices: dict[str, NoticePlayer] = {}
        self.retention_rules: list[RetentionRule] = []
        self.sources: dict[str, Any] = {}
        self.integrations: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False

    # -- helpers for components -------------------------------------------------------------
    def path(self, value: str | Path) -> Path:
        """Config paths are relative to the folder that holds the config file."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.config_dir / p).resolve()

    def now(self) -> datetime:
        """Aware wall-clock time in the configured timezone."""
        return datetime.now(self.tz)

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()

    def normalize(self, number: str | None) -> str | None:
        return normalize_number(number, self.default_country)

    def create_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task the hub keeps a strong reference to and cancels at stop."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("task %s failed", task.get_name(), exc_info=task.exception())

    @property
    def stopping(self) -> bool:
        return self._stopping

    # -- building and starting --------------------------------------------------------------
    def _build(self) -> None:
        store_conf = self.config.get("store") or {"platform": "sqlite"}
        self._add_entry("store", "store", store_conf)
        for kind in ("sink", "notice", "retention", "integration", "source"):
            for item in self.config.get(CONFIG_BLOCKS[kind]) or []:
                self._add_entry(kind, item.get("id", item["platform"]), item)
        if self.config.get("http"):
            self._add_entry("integration", "http", {"platform": "http", **self.config["http"]})
        if self.config.get("analysis"):
            self._add_entry("integration", "analysis", {"platform": "analysis", **self.config["analysis"]})

    def _add_entry(self, kind: str, item_id: str, conf: dict[str, Any]) -> None:
        platform = self.plugins.get(kind, conf["platform"])
        if platform is None:
            raise ValueError(f"no {kind} platform {conf['platform']!r}")
        component = platform.factory(self, conf)
        entry = Entry(kind, item_id, conf["platform"], component, on_state=self._on_state)
        self.entries.append(entry)
        if kind == "store":
            self.store = component
        elif kind == "sink":
            self.sinks[item_id] = component
        elif kind == "notice":
            self.notices[item_id] = component
        elif kind == "retention":
            self.retention_rules.append(component)
        elif kind == "source":
            self.sources[item_id] = component
        else:
            self.integrations[item_id] = component

    def _on_state(self, entry: Entry) -> None:
        self.bus.publish(
            events.SOURCE_STATUS if entry.kind == "source" else f"{entry.kind}_status",
            {
                "kind": entry.kind,
                "id": entry.id,
                "platform": entry.platform,
                "state": str(entry.state),
                "reason": entry.reason,
            },
        )

    async def async_start(self) -> None:
        """Build and set up every component; a store that fails to load is fatal."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._build()
        if any(getattr(sink, "encrypt", False) for sink in self.sinks.values()):
            from salvesti.core.crypto.keyring import Keyring

            # before anything records: without the key nothing encrypted can be written or read
            self.keyring = Keyring.open(self.key_file, self.data_dir / "keys.db")
        for kind in SETUP_ORDER:
            for entry in [e for e in self.entries if e.kind == kind]:
                ok = await entry.setup()
                if kind == "store" and not ok:
                    raise RuntimeError(f"store could not be opened: {entry.reason}")
            if kind == "sink":
                await self._repair_unfinished()
        from salvesti.core import health_summary, retention

        retention.start_schedule(self)
        health_summary.start(self)

    def status(self) -> list[dict[str, Any]]:
        return [
            {"kind": e.kind, "id": e.id, "platform": e.platform, "state": str(e.state), "reason": e.reason}
            for e in self.entries
        ]

    async def async_stop(self, *, call_timeout: float | None = None) -> None:
        """Staged shutdown: stop intake → let calls end → hang up the rest → unload → close.

        ``call_timeout`` (default: the config's ``salvesti.shutdown_grace``) is how long calls
        may go on by themselves; then they are hung up and their recordings finalised.
        """
        self._stopping = True
        if call_timeout is None:
            call_timeout = self.shutdown_grace
        sources = [e for e in self.entries if e.kind == "source" and e.state == State.LOADED]
        for entry in sources:
            entry.component.stop_intake()
        deadline = time.monotonic() + call_timeout
        while time.monotonic() < deadline and any(e.component.active_calls() for e in sources):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        for entry in sources:
            if entry.component.active_calls():
                await asyncio.shield(entry.component.hangup_all())
        for kind in reversed(SETUP_ORDER):
            for entry in reversed([e for e in self.entries if e.kind == kind]):
                await entry.unload()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bus.drain()
        if self.keyring is not None:
            self.keyring.close()
            self.keyring = None

    # -- recordings in progress -------------------------------------------------------------
    def recording_started(self, recording: Any) -> None:
        """Called by :class:`~salvesti.core.recording.CallRecording` once its file is open."""
        self.recordings[recording.call.id] = recording

    def recording_closed(self, recording: Any) -> None:
        if self.recordings.get(recording.call.id) is recording:
            del self.recordings[recording.call.id]

    # -- call progress, called by sources --------------------------------------------------
    def default_sink(self) -> RecordingSink | None:
        return next(iter(self.sinks.values()), None)

    def provide_employee_notices(self, register: EmployeeNotices | None) -> None:
        """A plugin that keeps the employee notice register offers it here (at setup; None at
        unload).  Without one, ``require_employee_notice`` records no call with an extension."""
        self.policy.employee_notices = register

    def recording_refusal(self, call: Call) -> Refusal | None:
        """Why the law forbids recording ``call`` as it stands now (also marks the call)."""
        refusal = self.policy.refusal(call)
        if refusal is not None:
            call.meta["not_recorded"] = refusal.to_json()
        return refusal

    def should_record(self, call: Call, *, record_internal: bool = False) -> bool:
        """A plugin's answer, else the default (outside calls yes, internal ones only with
        ``record_internal``); a yes is then overruled by the policy, which no plugin can lift.
        Only a call that would have been recorded is marked ``not_recorded``."""
        answer = self.plugins.hook.should_record(call=call)
        if answer is None:
            answer = str(call.direction) != "internal" or record_internal
        if not answer:
            return False
        if self.recording_refusal(call) is not None:
            _LOGGER.info("call %s: not recorded: %s", call.id, call.meta["not_recorded"]["detail"])
            return False
        return True

    def notice_for(self, call: Call) -> NoticePlayer | None:
        """The notice to play: a plugin's choice, else the configured notice that matches the
        call's direction and line, preferring one whose ``callers`` prefixes match the outside
        number (the longest prefix wins), else the first without ``callers``.

        A call the policy refused to record gets none: it must not be told it is recorded.
        """
        if call.meta.get("not_recorded"):
            return None
        chosen = self.plugins.hook.select_notice(call=call)
        if chosen is not None:
            return self.notices.get(chosen)
        fallback: NoticePlayer | None = None
        best: tuple[int, NoticePlayer] | None = None
        for notice in self.notices.values():
            if str(call.direction) not in notice.directions:
                continue
            if notice.lines and call.line not in notice.lines:
                continue
            callers = getattr(notice, "callers", None)
            if not callers:
                if fallback is None:
                    fallback = notice
                continue
            number = call.remote_number or ""
            length = max((len(p) for p in callers if number.startswith(p)), default=0)
            if length and (best is None or length > best[0]):
                best = (length, notice)
        return best[1] if best is not None else fallback

    async def _save(self, call: Call) -> None:
        if call.node is None:
            call.node = self.node
        if self.store is None:
            return
        try:
            await self.store.save_call(call)
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("call %s: could not save to the store", call.id)

    async def call_started(self, call: Call) -> None:
        await self._save(call)
        self.bus.publish(events.CALL_STARTED, call.to_json())

    async def call_answered(self, call: Call) -> None:
        await self._save(call)
        self.bus.publish(events.CALL_ANSWERED, call.to_json())

    async def notice_played(self, call: Call) -> None:
        await self._save(call)
        self.bus.publish(events.NOTICE_PLAYED, call.to_json())

    async def call_updated(self, call: Call) -> None:
        """Persist a mid-call change (transfer, hold) without an event of its own."""
        await self._save(call)

    async def call_ended(
        self,
        call: Call,
        recording: Any | None = None,
        *,
        rtp: Mapping[str, health.RtpCounts] | None = None,
    ) -> None:
        """Finalise the recording (shielded from cancellation), check its health, apply
        retention, persist, publish.

        ``recording`` is the call's :class:`~salvesti.core.recording.CallRecording`, None when
        the source did not mean to record; ``rtp`` the RTP counters by channel (``outside``,
        ``heard``) when the source keeps them (kept in ``call.meta["rtp"]``).
        """
        if call.ended_at is None:
            call.ended_at = self.now()
        if call.disposition is None:
            call.disposition = Disposition.ANSWERED if call.answered_at else Disposition.FAILED
        if recording is not None:
            await asyncio.shield(self._finish_recording(call, recording))
            if self.recording_refusal(call) is not None:  # e.g. an uninformed employee answered
                await asyncio.shield(self._discard_recording(call))
                recording = None
        if rtp:
            call.meta["rtp"] = {ch: {"received": c.received, "lost": c.lost} for ch, c in rtp.items()}
        audio = recording.audio_seen() if hasattr(recording, "audio_seen") else None
        call.health = health.assess(
            call, expected=recording is not None, audio=audio, rtp=rtp, limits=self.health_limits
        )
        self.apply_retention(call)
        for extra in self.plugins.hook.call_metadata(call=call):
            if extra:
                call.meta.update(extra)
        await self._save(call)
        self.bus.publish(events.CALL_ENDED, call.to_json())
        if call.recording is not None and call.recording.status in ("saved", "repaired"):
            self.bus.publish(events.RECORDING_SAVED, call.to_json())
        if call.health:
            _LOGGER.warning(
                "call %s: recording unhealthy: %s", call.id, "; ".join(p.detail for p in call.health)
            )
            self.bus.publish(events.RECORDING_UNHEALTHY, call.to_json())
        self.cycles.call_ended()

    async def _finish_recording(self, call: Call, recording: Any) -> None:
        try:
            info = await recording.close()
        except Exception as err:
            _LOGGER.exception("call %s: recording could not be finalised", call.id)
            if call.recording is not None:
                call.recording.status = "failed"
                call.recording.note = f"finalise failed: {err}"
            self.bus.publish(events.RECORDING_FAILED, {"call_id": call.id, "error": str(err)})
            return
        if info is not None:
            call.recording = info

    async def _discard_recording(self, call: Call) -> None:
        """Delete what was written of a call the policy refused only once it was under way
        (the extension is known when a phone answers, after the recording began)."""
        sink = self.sinks.get(call.meta.get("sink", "")) or self.default_sink()
        if call.recording is not None and sink is not None:
            try:
                await sink.delete(call)
            except Exception:
                _LOGGER.exception("call %s: could not delete the refused recording", call.id)
                return
        call.recording = None
        call.pauses = []
        _LOGGER.info("call %s: recording discarded: %s", call.id, call.meta["not_recorded"]["detail"])

    def apply_retention(self, call: Call) -> None:
        """Set ``retention.delete_after`` from the first matching rule."""
        for rule in self.retention_rules:
            if rule.matches(call):
                call.set_delete_after(rule.days, rule.id)
                return

    def recording_failed(self, call: Call, error: BaseException) -> None:
        """A sink failed mid-call: tell the user, keep the media flowing."""
        _LOGGER.error("call %s: recording sink failed: %s", call.id, error)
        if call.recording is not None:
            call.recording.status = "failed"
            call.recording.note = str(error)
        self.bus.publish(events.RECORDING_FAILED, {"call_id": call.id, "error": str(error)})

    async def _repair_unfinished(self) -> None:
        """Calls cut off by a crash: repair their files and list them as ended."""
        if self.store is None:
            return
        try:
            calls = await self.store.unfinished_calls()
        except Exception:
            _LOGGER.exception("could not read unfinished calls")
            return
        for call in calls:
            sink = self.sinks.get(call.meta.get("sink", "")) or self.default_sink()
            info = None
            if sink is not None and call.recording is not None:
                try:
                    info = await sink.repair(call)
                except Exception:
                    _LOGGER.exception("call %s: repair failed", call.id)
            if info is not None:
                call.recording = info
                if call.answered_at and info.duration_s is not None:
                    from datetime import timedelta

                    call.ended_at = call.answered_at + timedelta(seconds=info.duration_s)
            call.ended_at = call.ended_at or self.now()
            call.disposition = call.disposition or (
                Disposition.ANSWERED if call.answered_at else Disposition.FAILED
            )
            call.meta["cut_off"] = True
            self.apply_retention(call)
            await self._save(call)
            _LOGGER.warning("call %s: was cut off by a crash; recording repaired and listed", call.id)
            self.bus.publish(events.CALL_ENDED, call.to_json())
