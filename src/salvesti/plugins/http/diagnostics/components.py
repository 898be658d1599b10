"""Each configured component (store, sinks, sources, integrations...): its state and last error.

The hub's entries keep a state (``core.lifecycle.State``) and the error that put them there;
the error text is technical, so the common causes are recognised and named in plain words.
"""

from __future__ import annotations

from salvesti.plugins.http.diagnostics.check import Check, State

#: Words in an error and the advice key that explains them, first match wins.
_CAUSES = (
    ("address already in use", "diag_comp_port_in_use"),
    ("cannot listen", "diag_comp_port_in_use"),
    ("permission denied", "diag_comp_permission"),
    ("not writable", "diag_comp_permission"),
    ("no such file", "diag_comp_missing_file"),
    ("not found", "diag_comp_missing_file"),
    ("name or service not known", "diag_comp_dns"),
    ("temporary failure in name resolution", "diag_comp_dns"),
    ("connection refused", "diag_comp_refused"),
    ("timed out", "diag_comp_refused"),
)


def cause(reason: str | None) -> str:
    text = (reason or "").lower()
    return next((key for words, key in _CAUSES if words in text), "diag_comp_error")


def component_check(kind: str, item_id: str, platform: str, state: str, reason: str | None) -> Check:
    details = {"kind": kind, "id": item_id, "platform": platform, "state": state, "reason": reason}

    def result(s: State, advice: str) -> Check:
        return Check(f"component.{kind}.{item_id}", "components", s, "diag_comp_title", advice, details)

    if state == "loaded":
        return result(State.OK, "diag_comp_ok")
    if state == "setup_in_progress":
        return result(State.WARN, "diag_comp_starting")
    if state == "setup_retry":
        return result(State.WARN, "diag_comp_retry")
    if state == "auth_failed":
        return result(State.FAIL, "diag_comp_auth")
    if state == "not_loaded":
        return result(State.WARN, "diag_comp_not_loaded")
    return result(State.FAIL, cause(reason))
