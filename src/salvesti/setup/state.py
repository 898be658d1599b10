"""What the wizard has gathered so far: in memory only, until the last step writes the files.

Nothing reaches the disk before the final step, so a browser closed halfway leaves the folder
as it was; the one exception is an uploaded notice, kept in a private temporary folder that
:meth:`WizardState.discard` removes.  Each step replaces its part whole (the page may go back
and submit a step again).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: The steps in the page's order (the setup code is checked before any of them).
STEPS = ("owner", "purpose", "carrier", "numbers", "notice", "retention", "employees")


@dataclass
class Account:
    """One registration with the carrier: the DDI trunk (``line`` None) or a number's account."""

    registrar: str
    username: str
    password: str
    line: str | None = None


@dataclass
class Carrier:
    shape: str = "none"  # trunk | accounts | none (presets.SHAPES)
    trunk: Account | None = None
    numbers: list[str] = field(default_factory=list)  # the trunk's lines
    accounts: list[Account] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        if self.shape == "trunk":
            return list(self.numbers)
        if self.shape == "accounts":
            return [a.line for a in self.accounts if a.line]
        return []


@dataclass
class Extension:
    user: str
    name: str
    password: str  # generated; shown once on the page, then only in secrets.yaml


@dataclass
class Notice:
    kind: str = "bundled"  # bundled | upload
    language: str = "et"  # a bundled notice's language
    upload: Path | None = None  # the uploaded WAV, in the wizard's temporary folder


@dataclass
class WizardState:
    owner_name: str | None = None
    owner_password: str | None = None
    purpose: str | None = None
    carrier: Carrier | None = None
    extensions: list[Extension] = field(default_factory=list)
    inbound: dict[str, list[str]] = field(default_factory=dict)
    numbers_done: bool = False
    notice: Notice | None = None
    retention: dict[str, int] = field(default_factory=dict)  # line -> days; "default" for the rest
    employees: list[str] | None = None
    _tmp: Path | None = None

    def done(self) -> list[str]:
        """The steps already submitted (the page shows them ticked)."""
        have = {
            "owner": self.owner_password is not None,
            "purpose": self.purpose is not None,
            "carrier": self.carrier is not None,
            "numbers": self.numbers_done,
            "notice": self.notice is not None,
            "retention": "default" in self.retention,
            "employees": self.employees is not None,
        }
        return [s for s in STEPS if have[s]]

    def missing(self) -> list[str]:
        done = set(self.done())
        return [s for s in STEPS if s not in done]

    def temp_dir(self) -> Path:
        """A private folder (mode 0700) for the uploaded notice; removed by :meth:`discard`."""
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="salvesti-setup-"))
        return self._tmp

    def discard(self) -> None:
        """Forget every password and remove the temporary folder."""
        self.owner_password = None
        for ext in self.extensions:
            ext.password = ""
        if self.carrier is not None:
            for acc in [self.carrier.trunk, *self.carrier.accounts]:
                if acc is not None:
                    acc.password = ""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def strong_password() -> str:
    """A SIP password a scanner will not guess (what config.example.yaml tells people to make)."""
    return secrets.token_urlsafe(15)
