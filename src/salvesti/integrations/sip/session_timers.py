"""Session timers (RFC 4028) on the B2BUA's legs: the asyncio side of ``session_timer``.

Each leg negotiates its own timer with its own peer (the carrier's INVITE or 2xx, a phone's
INVITE), because the two legs of a bridged call are two dialogs.  Here a leg's one
deadline becomes a ``call_at`` that posts ``session_timer`` on the call's queue, so the
call's coroutine handles it in order with everything else: when we are the refresher it
sends a body-less UPDATE (or a re-INVITE with our current SDP to a peer without UPDATE);
when the session expires the phase raises ``CallOver`` and ``finish`` sends BYE on both
legs.  Refreshes from the peer are answered with the interval they set, and restart it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from salvesti.core.protocols.sip.events import ResponseReceived, TransactionTimeout
from salvesti.core.protocols.sip.message import SipRequest, SipResponse
from salvesti.core.protocols.sip.session_timer import (
    MIN_SE,
    RefreshDue,
    SessionExpired,
    SessionIntervalTooSmall,
    SessionTimer,
)
from salvesti.integrations.sip.call import B2BCall, Leg

_LOGGER = logging.getLogger(__name__)

#: A refresh answered with one of these means the peer lost the dialog (§10): end the call.
_DIALOG_GONE = {408, 481}


class SessionTimers:
    """The session timers of one source's legs."""

    def __init__(
        self,
        signaller: Any,
        find_call: Callable[[Leg], B2BCall | None],
        *,
        min_se: int = MIN_SE,
        label: str = "sip",
    ) -> None:
        self.sig = signaller
        self.find_call = find_call
        self.min_se = min_se
        self.label = label

    def now(self) -> float:
        return float(self.sig.transport.now())

    # -- negotiation -------------------------------------------------------------------------
    def for_invite(self, request: SipRequest) -> SessionTimer | None:
        """The timer a new INVITE asks of us; raises SessionIntervalTooSmall (answer 422)."""
        return SessionTimer.for_request(request, min_se=self.min_se)

    def too_small_headers(self) -> list[tuple[str, str]]:
        return [("Min-SE", str(self.min_se))]

    def answered(self, leg: Leg, response: SipResponse) -> None:
        """Our INVITE on ``leg`` got its 2xx: the timer the peer set, if any, starts now."""
        leg.session = SessionTimer.for_response(response)
        self.arm(leg)

    def refresh_received(self, leg: Leg, request: SipRequest) -> list[tuple[str, str]]:
        """A re-INVITE or UPDATE from the peer: restart (or, without Session-Expires, stop)
        the leg's timer; the headers for our 2xx.  Raises SessionIntervalTooSmall."""
        update = SessionTimer.for_request(request, min_se=self.min_se)
        if update is None:
            self.disarm(leg)
            leg.session = None
            return []
        if leg.session is None:
            leg.session = update
            update.start(self.now())
        else:
            leg.session.refreshed(self.now(), update)
        self.arm(leg)
        return update.answer_headers()

    # -- the clock ---------------------------------------------------------------------------
    def arm(self, leg: Leg) -> None:
        """(Re)schedule the leg's next session-timer deadline."""
        self.disarm(leg)
        timer = leg.session
        if timer is None:
            return
        if timer.expire_at is None:
            timer.start(self.now())
        deadline = timer.next_deadline()
        if deadline is not None:
            loop = asyncio.get_running_loop()
            leg.session_handle = loop.call_at(deadline, self._fire, leg)

    def disarm(self, leg: Leg) -> None:
        if leg.session_handle is not None:
            leg.session_handle.cancel()
            leg.session_handle = None

    def _fire(self, leg: Leg) -> None:
        leg.session_handle = None
        call = self.find_call(leg)
        if call is not None and leg.state == "confirmed":
            call.post("session_timer", leg)

    def due(self, call: B2BCall, leg: Leg) -> bool:
        """Handle the leg's deadline on the call's coroutine; True when the session expired."""
        timer = leg.session
        if timer is None or leg.state != "confirmed":
            return False
        for event in timer.on_timer(self.now()):
            if isinstance(event, SessionExpired):
                _LOGGER.info(
                    "%s: call %s: session expired on the %s leg", self.label, call.record.id, leg.role
                )
                return True
            if isinstance(event, RefreshDue):
                self.refresh(call, leg)
        self.arm(leg)
        return False

    # -- refreshing --------------------------------------------------------------------------
    def refresh(self, call: B2BCall, leg: Leg) -> None:
        timer = leg.session
        assert timer is not None
        headers = timer.refresh_headers()
        on_event = self._refresh_answered(call, leg)
        if timer.peer_allows_update:
            self.sig.request(leg, "UPDATE", headers=headers, on_event=on_event)
        else:
            self.sig.request(leg, "INVITE", headers=headers, body=leg.local_sdp(), on_event=on_event)

    def _refresh_answered(self, call: B2BCall, leg: Leg) -> Callable[[Any], None]:
        def on_event(event: Any) -> None:
            if isinstance(event, TransactionTimeout):
                call.post("session_lost", leg)
                return
            if not isinstance(event, ResponseReceived) or event.response.status < 200:
                return
            resp = event.response
            if resp.cseq[1] == "INVITE" and 200 <= resp.status < 300 and leg.dialog is not None:
                ack = leg.dialog.create_ack(resp.cseq[0], via=self.sig.via(leg))
                self.sig.transport.send_stateless(ack, leg.addr, leg.transport)
                leg.refresh_answered(resp.body)
            timer = leg.session
            if timer is None or leg.state != "confirmed":
                return
            if 200 <= resp.status < 300:
                timer.refreshed(self.now(), SessionTimer.for_response(resp))
                self.arm(leg)
            elif resp.status == 422:
                asked = (resp.headers.get("Min-SE") or "").strip()
                if asked.isdigit() and int(asked) > timer.interval:
                    timer.interval = int(asked)
                    self.refresh(call, leg)
            elif resp.status in _DIALOG_GONE:
                call.post("session_lost", leg)

        return on_event


__all__ = ["SessionIntervalTooSmall", "SessionTimers"]
