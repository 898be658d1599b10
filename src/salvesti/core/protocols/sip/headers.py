"""SIP header storage: an ordered, case-insensitive multi-map.

Header order matters in SIP (Via and Route are processed top-down) and the same name
may appear on several lines, so a plain dict is wrong. Names are canonicalised on the
way in (compact ``v`` becomes ``Via``, ``call-id`` becomes ``Call-ID``) so that
serialised messages look the same whichever peer produced them.
"""

from __future__ import annotations

from collections.abc import Iterator

# RFC 3261 §7.3.3 and later RFCs: compact forms.
COMPACT_FORMS: dict[str, str] = {
    "i": "Call-ID",
    "m": "Contact",
    "f": "From",
    "t": "To",
    "v": "Via",
    "l": "Content-Length",
    "c": "Content-Type",
    "k": "Supported",
    "s": "Subject",
    "e": "Content-Encoding",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "x": "Session-Expires",
    "u": "Allow-Events",
}

_KNOWN_NAMES = [
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Diversion",
    "Error-Info",
    "Event",
    "Expires",
    "From",
    "History-Info",
    "In-Reply-To",
    "Max-Forwards",
    "Min-Expires",
    "Min-SE",
    "MIME-Version",
    "Organization",
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Path",
    "Priority",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "RAck",
    "Reason",
    "Record-Route",
    "Refer-To",
    "Referred-By",
    "Remote-Party-ID",
    "Replaces",
    "Reply-To",
    "Require",
    "Retry-After",
    "Route",
    "RSeq",
    "Server",
    "Session-Expires",
    "SIP-ETag",
    "SIP-If-Match",
    "Subject",
    "Subscription-State",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
]
_CANONICAL: dict[str, str] = {n.lower(): n for n in _KNOWN_NAMES}

# Headers whose grammar is a comma-separated list of values that may also be split
# over several lines (RFC 3261 §7.3.1). Authentication headers are NOT in this set:
# their commas separate parameters, not values.
MULTI_VALUE: frozenset[str] = frozenset({"via", "contact", "route", "record-route", "path"})


def canonical_name(name: str) -> str:
    """Return the canonical spelling of a header name (expanding compact forms)."""
    name = name.strip()
    low = name.lower()
    if low in COMPACT_FORMS:
        return COMPACT_FORMS[low]
    return _CANONICAL.get(low, name)


def split_list(value: str) -> list[str]:
    """Split a comma-separated header value, respecting quoted strings and ``<...>``.

    ``"Doe, John" <sip:a@b>, <sip:c@d;x=1,2>`` gives two values: commas inside quotes
    or angle brackets belong to the value.
    """
    out: list[str] = []
    buf: list[str] = []
    in_quotes = False
    in_angle = False
    escape = False
    for ch in value:
        if escape:
            buf.append(ch)
            escape = False
            continue
        if in_quotes:
            if ch == "\\":
                escape = True
            elif ch == '"':
                in_quotes = False
            buf.append(ch)
            continue
        if ch == '"':
            in_quotes = True
        elif ch == "<":
            in_angle = True
        elif ch == ">":
            in_angle = False
        elif ch == "," and not in_angle:
            item = "".join(buf).strip()
            if item:
                out.append(item)
            buf = []
            continue
        buf.append(ch)
    item = "".join(buf).strip()
    if item:
        out.append(item)
    return out


class Headers:
    """Ordered, case-insensitive multi-map of SIP headers.

    Each stored entry is one header line (canonical name, raw value). ``get_all``
    additionally splits comma-joined list headers so ``Via: a, b`` and two Via lines
    read the same.
    """

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._items: list[tuple[str, str]] = []
        for name, value in items or []:
            self.add(name, value)

    def get(self, name: str) -> str | None:
        """First value of ``name`` (for list headers: the first list element)."""
        values = self.get_all(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in order; list headers are split on commas."""
        key = canonical_name(name).lower()
        values = [v for n, v in self._items if n.lower() == key]
        if key in MULTI_VALUE:
            return [part for v in values for part in split_list(v)]
        return values

    def get_tokens(self, name: str) -> list[str]:
        """Comma-separated tokens of every line of ``name``, lowercased (Supported,
        Require, Allow, Allow-Events): ``"100rel" in h.get_tokens("Supported")``."""
        return [t.strip().lower() for v in self.get_all(name) for t in split_list(v) if t.strip()]

    def set(self, name: str, value: str) -> None:
        """Replace every line of ``name`` with one line, at the first one's position."""
        canon = canonical_name(name)
        key = canon.lower()
        for i, (n, _) in enumerate(self._items):
            if n.lower() == key:
                self._items[i] = (canon, value)
                self._items = [item for j, item in enumerate(self._items) if j <= i or item[0].lower() != key]
                return
        self._items.append((canon, value))

    def add(self, name: str, value: str, first: bool = False) -> None:
        """Append a line; with ``first=True`` put it before every other line of that name
        (how a proxy or UAC pushes a new top Via)."""
        canon = canonical_name(name)
        if first:
            key = canon.lower()
            for i, (n, _) in enumerate(self._items):
                if n.lower() == key:
                    self._items.insert(i, (canon, value))
                    return
        self._items.append((canon, value))

    def remove(self, name: str) -> None:
        """Remove every line of ``name`` (no error if absent)."""
        key = canonical_name(name).lower()
        self._items = [item for item in self._items if item[0].lower() != key]

    def remove_first(self, name: str) -> str | None:
        """Remove and return the first list value of ``name`` (e.g. our own top Via)."""
        key = canonical_name(name).lower()
        for i, (n, v) in enumerate(self._items):
            if n.lower() != key:
                continue
            parts = split_list(v) if key in MULTI_VALUE else [v]
            if len(parts) > 1:
                self._items[i] = (n, ", ".join(parts[1:]))
            else:
                del self._items[i]
            return parts[0] if parts else v
        return None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = canonical_name(name).lower()
        return any(n.lower() == key for n, _ in self._items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def items(self) -> list[tuple[str, str]]:
        """Every header line as (canonical name, raw value), in order."""
        return list(self._items)

    def copy(self) -> Headers:
        new = Headers()
        new._items = list(self._items)
        return new
