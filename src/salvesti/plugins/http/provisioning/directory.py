"""Finding accounts across the sources that offer provisioning, by MAC, extension or token.

Read from the sources at each request (``provisioning_plan()`` is cheap), so what is served is
what the running config says.  Lookups that answer "not found" to strangers do the same work
whatever the answer (every token is compared, in constant time), so response times do not tell
a configured MAC or token from an unknown one.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from salvesti.core.provisioning import PhoneAccount, PhoneDirectory, ProvisioningPlan
from salvesti.plugins.http.provisioning.tokens import extension_token


@dataclass(frozen=True)
class Found:
    plan: ProvisioningPlan
    account: PhoneAccount


def plans(hub: Any) -> list[ProvisioningPlan]:
    sources = getattr(hub, "sources", {}) or {}
    return [s.provisioning_plan() for s in sources.values() if isinstance(s, PhoneDirectory)]


def by_extension(hub: Any, user: str) -> Found | None:
    for plan in plans(hub):
        account = plan.account(user)
        if account is not None:
            return Found(plan, account)
    return None


def by_mac(hub: Any, mac: str) -> Found | None:
    """The account of an enabled source whose phone has this MAC."""
    for plan in plans(hub):
        for account in plan.accounts:
            if account.mac == mac and plan.enabled:
                return Found(plan, account)
    return None


def by_token(hub: Any, token: str) -> Found | None:
    """The account whose softphone token this is (every candidate compared, constant time)."""
    found = None
    given = token.encode("utf-8", "replace")
    for plan in plans(hub):
        for account in plan.accounts:
            expected = extension_token(plan.source, account).encode("ascii")
            if hmac.compare_digest(given, expected) and plan.enabled and found is None:
                found = Found(plan, account)
    return found


def path_token_ok(plan: ProvisioningPlan | None, given: str | None) -> bool:
    """A source with ``token:`` serves only under it; one without serves only without."""
    expected = (plan.token if plan else None) or ""
    return hmac.compare_digest((given or "").encode("utf-8", "replace"), expected.encode("utf-8"))
