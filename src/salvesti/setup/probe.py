"""Try the carrier's credentials before they are saved: one real REGISTER, then unREGISTER.

No second SIP stack: the sip source's own :class:`~salvesti.integrations.sip.trunk.TrunkClient`
builds the REGISTER and answers the digest challenge, on the sans-IO transaction layer behind
a short-lived :class:`~salvesti.integrations.sip.transport.SipTransport` on an ephemeral port.
So the wizard says "ok" only when the running source would register the same way.  The answer
is sorted the way a shop owner can act on it: accepted, wrong credentials, no such account,
not reachable (name or route), no answer in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from typing import Any

from salvesti.core.protocols.sip.transaction import ClientTransaction
from salvesti.integrations.sip.addresses import kernel_route
from salvesti.integrations.sip.transport import SipTransport
from salvesti.integrations.sip.trunk import TrunkClient, resolve
from salvesti.setup.checks import Words, words

#: Seconds the carrier has to answer (the transaction itself would wait 32 s).
DEFAULT_TIMEOUT = 6.0


@dataclass
class ProbeResult:
    outcome: str  # ok | credentials | unknown_account | refused | unreachable | timeout
    status: int | None
    detail: str
    words: Words

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "outcome": self.outcome,
            "status": self.status,
            "detail": self.detail,
            "words": self.words,
        }


async def probe_register(
    registrar: str, username: str, password: str, *, wait_s: float = DEFAULT_TIMEOUT
) -> ProbeResult:
    """REGISTER ``username`` at ``registrar`` (host or host:port, UDP) and say how it went."""
    try:
        addrs = await resolve(registrar)
        local = kernel_route(addrs[0][0]) if addrs else None
    except (OSError, ValueError) as err:
        return _unreachable(registrar, str(err))
    if local is None:
        return _unreachable(registrar, "no address")

    def on_event(event: Any) -> None:
        txn = getattr(event, "txn", None)
        if isinstance(txn, ClientTransaction) and callable(txn.user_data):
            txn.user_data(event)

    transport = SipTransport(local, 0, on_event, label="setup probe")
    conf = {"registrar": registrar, "username": username, "password": password}
    client = TrunkClient(
        conf, transport=transport, contact_host=lambda _peer: local, label="setup", on_status=_ignore
    )
    try:
        await transport.start()
        granted = await asyncio.wait_for(client.register_once(60), wait_s)
    except TimeoutError:
        return _timeout(registrar, wait_s)
    except OSError as err:
        if str(err).startswith("no answer"):
            return _timeout(registrar, wait_s)
        return _unreachable(registrar, str(err))
    except RuntimeError as err:
        return _refused(str(err))
    finally:
        with contextlib.suppress(Exception):
            await client.stop()  # unREGISTER: the carrier must not send calls to this port
        await transport.stop()
    return ProbeResult(
        "ok",
        200,
        f"registered for {granted} s",
        words(
            "Operaator võttis kasutajanime ja parooli vastu (200 OK).",
            "The carrier accepted the user name and password (200 OK).",
        ),
    )


def _ignore(*_args: Any) -> None:
    """Registration state changes of a probe are not news to anyone."""


def _refused(detail: str) -> ProbeResult:
    m = re.match(r"(\d{3})\s*(.*)", detail)
    status = int(m.group(1)) if m else None
    answer = detail.split(":", 1)[0]
    if status in (401, 403, 407):
        return ProbeResult(
            "credentials",
            status,
            detail,
            words(
                f"Operaator ei võtnud kasutajanime või parooli vastu ({answer}). Kontrolli neid "
                "operaatori SIP-seadetest.",
                f"The carrier refused the user name or password ({answer}). Check them in the "
                "carrier's SIP settings.",
            ),
        )
    if status == 404:
        return ProbeResult(
            "unknown_account",
            status,
            detail,
            words(
                f"Operaator ei tunne seda kasutajanime ({answer}).",
                f"The carrier does not know this user name ({answer}).",
            ),
        )
    return ProbeResult(
        "refused", status, detail, words(f"Operaator vastas: {answer}.", f"The carrier answered: {answer}.")
    )


def _unreachable(registrar: str, detail: str) -> ProbeResult:
    return ProbeResult(
        "unreachable",
        None,
        detail,
        words(
            f"Serverit {registrar} ei leitud või sinna ei pääse ({detail}). Kontrolli aadressi ja "
            "internetiühendust.",
            f"{registrar} cannot be found or reached ({detail}). Check the address and the internet "
            "connection.",
        ),
    )


def _timeout(registrar: str, timeout: float) -> ProbeResult:
    return ProbeResult(
        "timeout",
        None,
        f"no answer within {timeout:g} s",
        words(
            f"{registrar} ei vastanud {timeout:g} sekundi jooksul. Kontrolli aadressi ja porti ning "
            "et tulemüür lubab SIP-i (UDP 5060).",
            f"{registrar} did not answer within {timeout:g} s. Check the address and port, and that "
            "the firewall lets SIP (UDP 5060) out.",
        ),
    )
