"""The configured IANA time zone in the forms phones understand.

Phones do not know ``Europe/Tallinn``: Grandstream takes a POSIX TZ rule
(``EET-2EEST,M3.5.0/3,M10.5.0/4``), Yealink an hour offset plus one of its own zone names,
Snom a code of its own.  The POSIX rule is read from the system's tz database (the last line of
a TZif v2+ file is that rule, RFC 8536 section 3.3), so it follows the database rather than a
table here.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

#: Used only when the tz database has no file for the zone (a trimmed container image).
_FALLBACK_RULES = {"Europe/Tallinn": "EET-2EEST,M3.5.0/3,M10.5.0/4", "UTC": "UTC0"}


@cache
def posix_rule(name: str) -> str:
    """``Europe/Tallinn`` -> ``EET-2EEST,M3.5.0/3,M10.5.0/4``."""
    for root in zoneinfo.TZPATH:
        path = Path(root) / name
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if data[:4] == b"TZif" and data[4:5] >= b"2" and data.endswith(b"\n"):
            footer = data[:-1].rsplit(b"\n", 1)[-1]
            if footer:
                return footer.decode("ascii")
    return _FALLBACK_RULES.get(name, "UTC0")


def standard_offset(name: str, year: int = 2026) -> timedelta:
    """The zone's offset from UTC outside summer time (January in the north, July in the south)."""
    zone = zoneinfo.ZoneInfo(name)
    offsets = [
        (
            datetime(year, month, 15, 12, tzinfo=zone).utcoffset() or timedelta(),
            datetime(year, month, 15, 12, tzinfo=zone).dst() or timedelta(),
        )
        for month in (1, 7)
    ]
    return next((off for off, dst in offsets if not dst), offsets[0][0])


def offset_hours(name: str) -> str:
    """The standard offset as phones write it: ``+2``, ``-5``, ``+5.5``, ``0``."""
    hours = standard_offset(name).total_seconds() / 3600
    text = f"{hours:+g}"
    return "0" if hours == 0 else text
