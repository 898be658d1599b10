"""Extensions: each desk phone (and browser phone) registered or not, from where, and its last call."""

from __future__ import annotations

from salvesti.core.call import Call
from salvesti.core.diagnostics import ExtensionState
from salvesti.plugins.http.diagnostics.check import Check, State, hostport, iso


def _where(addr: tuple[str, int] | None) -> str | None:
    """``host:port``; only the host when the port is not known (0: a browser's address)."""
    if addr is None:
        return None
    return hostport(addr) if addr[1] else addr[0]


def last_call_details(call: Call | None) -> dict[str, object] | None:
    """When and how the extension last took part in a call; not with whom (the page is
    about whether the phone works, and the call list already shows calls to those who may)."""
    if call is None:
        return None
    return {
        "id": call.id,
        "started_at": iso(call.started_at),
        "direction": str(call.direction),
        "disposition": str(call.disposition) if call.disposition is not None else None,
    }


def extension_check(source: str, ext: ExtensionState, last_call: Call | None, *, listen: str | None) -> Check:
    """A desk phone is fine while registered; a browser extension while a ``/phone`` tab is open."""
    contacts = [
        {
            "address": _where(c.address),
            "transport": c.transport,
            "user_agent": c.user_agent,
            "expires_at": iso(c.expires_at),
            "user": c.user,
        }
        for c in ext.contacts
    ]
    details = {
        "source": source,
        "user": ext.user,
        "name": ext.name,
        "kind": ext.kind,
        "registered": ext.registered,
        "listen": listen,
        "contacts": contacts,
        "last_call": last_call_details(last_call),
    }
    browser = ext.kind == "webrtc"
    if ext.registered:
        state, advice = State.OK, "diag_ext_tab_ok" if browser else "diag_ext_ok"
    else:
        state, advice = State.WARN, "diag_ext_tab_closed" if browser else "diag_ext_not_registered"
    title = "diag_ext_tab_title" if browser else "diag_ext_title"
    return Check(f"extension.{source}.{ext.user}", "extensions", state, title, advice, details)
