"""Call flows shared by several e2e tests: who dials whom, and how a call is driven to its end.

Numbers used throughout: the trunk's line ``+3726000000`` (see harness.salvesti), an outside
party ``+3725551234``, extensions 101 and 102.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from harness.baresip import Baresip
from harness.lab import Lab
from harness.procs import wait_for
from harness.salvesti import LINE, Salvesti
from harness.sipp import Sipp, g711_params

OUTSIDE = "+3725551234"


@dataclass
class Contact:
    user: str
    host_port: str


def registered_contact(carrier: Sipp, timeout: float = 10) -> Contact:
    """The Contact Salvesti registered at the carrier (waits for the REGISTER)."""
    uri = wait_for(
        carrier.registered_contact, timeout, interval=0.1, what="Salvesti's REGISTER at the carrier"
    )
    m = re.match(r"sips?:(?:([^@;]+)@)?([^;>?]+)", uri)
    assert m, f"cannot parse registered Contact {uri!r}"
    return Contact(m.group(1) or "", m.group(2))


def dial_out(
    phone: Baresip, salv: Salvesti, number: str = OUTSIDE, *, established_timeout: float = 10
) -> float:
    """The phone dials ``number`` through Salvesti; returns when the phone's call is established."""
    phone.dial(f"sip:{number}@{salv.address}")
    phone.wait_event("CALL_ESTABLISHED", established_timeout)
    return time.monotonic()


def hang_up(phone: Baresip, timeout: float = 5) -> None:
    after = len(phone.events)
    phone.hangup()
    phone.wait_event("CALL_CLOSED", timeout, after=min(after, len(phone.events)))


def inbound_from_carrier(
    lab: Lab,
    salv: Salvesti,
    carrier: Sipp,
    *,
    talk_ms: int,
    law: str = "ulaw",
    caller: str = OUTSIDE,
    name: str = "carrier-uac",
) -> Sipp:
    """The carrier sends an INVITE to the Contact Salvesti registered, plays speech, then BYE.

    Returns the started sipp; ``wait()`` gives 0 when the call went through.
    """
    contact = registered_contact(carrier)
    pcap = lab.audio.outside_ulaw_pcap if law == "ulaw" else lab.audio.outside_alaw_pcap
    uac = lab.sipp(
        name,
        "provider_uac_invite.xml",
        remote=contact.host_port,
        service=contact.user,
        calls=1,
        port=lab.carrier_uac_port or None,
        timeout_s=talk_ms / 1000 + 25,
        params={**g711_params(law), "PCAP": pcap, "TALK_MS": talk_ms, "LINE": LINE, "CALLER": caller},
    )
    return uac.start()
