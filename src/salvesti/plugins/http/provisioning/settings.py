"""Everything one phone's file says, resolved once, so the family writers only format.

The writers never see a plan, a request or the hub: :func:`phone_settings` decides the
server address (the plan's, else the host the phone fetched its file from), and the writers
turn a :class:`PhoneSettings` into text.  Golden-file tests build one by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from salvesti.core.provisioning import PhoneAccount, ProvisioningPlan

#: RTP payload type for telephone-event (RFC 4733, formerly RFC 2833): the one phones default to.
DTMF_PAYLOAD = 101

#: Static RTP payload types (RFC 3551) of the codecs phones are offered.
PAYLOAD_TYPES = {"PCMU": 0, "PCMA": 8, "G722": 9}


@dataclass(frozen=True)
class PhoneSettings:
    """One account as a phone file writes it.  ``password`` is a secret: never log it."""

    user: str
    password: str = field(repr=False)
    display_name: str
    server: str
    port: int
    transport: str  # "udp" | "tcp"
    codecs: tuple[str, ...]
    ntp_server: str
    timezone: str  # IANA name, e.g. Europe/Tallinn
    mac: str | None = None

    @property
    def server_host(self) -> str:
        """The server as a URI host (an IPv6 address in brackets)."""
        return f"[{self.server}]" if ":" in self.server else self.server

    @property
    def server_hostport(self) -> str:
        return f"{self.server_host}:{self.port}"

    @property
    def sip_uri(self) -> str:
        """``sip:101@box:5060;transport=udp``: what most softphones accept as an account."""
        return f"sip:{self.user}@{self.server_hostport};transport={self.transport}"


def phone_settings(
    plan: ProvisioningPlan, account: PhoneAccount, *, fetched_from: str, timezone: str
) -> PhoneSettings:
    """``fetched_from`` is the host name or address the phone reached the web server at."""
    return PhoneSettings(
        user=account.user,
        password=account.password,
        display_name=account.display_name or account.user,
        server=plan.server or fetched_from,
        port=plan.port,
        transport=plan.transport,
        codecs=plan.codecs,
        ntp_server=plan.ntp_server,
        timezone=timezone,
        mac=account.mac,
    )
