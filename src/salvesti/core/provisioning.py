"""Phone provisioning as a capability: a source offers its phone accounts, the web server serves them.

The SIP source knows the accounts (user, password, display name, the phone's MAC) and where
phones register; the HTTP plugin knows how to write a Yealink or Snom file and serve it.  They
meet here, as in ``core.components``: the HTTP plugin finds a :class:`PhoneDirectory` in
``hub.sources`` with ``isinstance`` and never imports the SIP integration.

MAC addresses are kept in one normal form (12 lower-case hex digits, ``001565123456``) because
that is what the phones put in the file names they ask for; :func:`normalize_mac` accepts the
notations people copy from labels and DHCP leases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

#: Desk-phone families whose provisioning files Salvesti writes.
PHONE_FAMILIES = ("yealink", "grandstream", "snom", "fanvil")

#: OUI (first three bytes) -> family, only for blocks the vendor is known to use for its
#: desk phones (IEEE MA-L registry entries of Yealink Network Technology, Grandstream
#: Networks, Snom Technology and Fanvil Technology).  Anything else needs ``phone:``.
OUI_FAMILIES: dict[str, str] = {
    "001565": "yealink",
    "249ad8": "yealink",
    "805ec0": "yealink",
    "805e0c": "yealink",
    "44dbd2": "yealink",
    "000b82": "grandstream",
    "c074ad": "grandstream",
    "ec74d7": "grandstream",
    "000413": "snom",
    "0c383e": "fanvil",
    "00a859": "fanvil",
}

_SEPARATORS = re.compile(r"[\s:.\-]")
_HEX12 = re.compile(r"[0-9a-f]{12}")


def normalize_mac(value: str) -> str | None:
    """``00:15:65:12:34:56``, ``00-15-65-12-34-56``, ``0015.6512.3456``, ``001565123456``
    (any case) -> ``001565123456``; None when it is not a MAC address."""
    text = _SEPARATORS.sub("", value.strip().lower())
    return text if _HEX12.fullmatch(text) else None


def family_for_mac(mac: str) -> str | None:
    """The phone family the MAC's OUI belongs to, when that OUI is a well-known one."""
    return OUI_FAMILIES.get(mac[:6])


def colon_mac(mac: str) -> str:
    """``001565123456`` -> ``00:15:65:12:34:56`` (for people and logs)."""
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))


@dataclass(frozen=True)
class PhoneAccount:
    """One extension as a phone needs it.  ``password`` is the SIP secret: never log it."""

    user: str
    password: str = field(repr=False)
    display_name: str | None
    #: Normalised MAC and family when the extension names a desk phone, else None.
    mac: str | None = None
    family: str | None = None


@dataclass(frozen=True)
class ProvisioningPlan:
    """What one source offers for provisioning.

    ``server`` is the host phones register to and use as outbound proxy; None means "the
    address the phone fetched its file from" (the box serves both).  ``token``, when set,
    must appear in the file URL (``/provision/<token>/<file>``).
    """

    source: str
    enabled: bool
    server: str | None
    port: int
    transport: str  # "udp" | "tcp"
    codecs: tuple[str, ...]
    ntp_server: str
    token: str | None = field(default=None, repr=False)
    accounts: tuple[PhoneAccount, ...] = ()

    def account(self, user: str) -> PhoneAccount | None:
        return next((a for a in self.accounts if a.user == user), None)


@runtime_checkable
class PhoneDirectory(Protocol):
    """A source whose extensions phones can be provisioned for."""

    id: str

    def provisioning_plan(self) -> ProvisioningPlan:
        """The accounts and the settings phones should use, as configured now."""
        ...
