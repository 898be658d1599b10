"""The settings ``config.yaml`` owns, read-only, each with the file and line it is written on.

Integrators keep their YAML: the web UI does not edit numbers, extensions, carrier accounts,
retention rules or notices.  It shows them, and where to change them (``config.yaml:14``), from
the validated config and the loader's own lines (:class:`~salvesti.core.config.ConfigMarks`).
Passwords are never part of the view; a value left at its default has ``where: null``.
"""

from __future__ import annotations

from typing import Any

from salvesti.core.config import ConfigMarks

__all__ = ["settings_view"]


def _account(conf: dict[str, Any], where: str | None) -> dict[str, Any]:
    """A carrier registration without its password."""
    return {
        "registrar": conf.get("registrar"),
        "username": conf.get("username"),
        "line": conf.get("line"),
        "transport": conf.get("transport"),
        "where": where,
    }


def _lines(marks: ConfigMarks, index: int, source: dict[str, Any]) -> list[dict[str, Any]]:
    """``lines:`` (sip_trunk) or ``line:`` (one-line sources); a line derived from an account
    points at that account."""
    base: list[Any] = ["sources", index]
    if isinstance(source.get("line"), str):
        return [{"number": source["line"], "where": marks.where([*base, "line"])}]
    out = []
    for n, number in enumerate(source.get("lines") or []):
        where = marks.where([*base, "lines", n])
        if where is None:
            account = marks.list_index([*base, "accounts"], number, key="line")
            where = marks.where([*base, "accounts", account]) if account is not None else None
        out.append({"number": number, "where": where})
    return out


def _extensions(marks: ConfigMarks, index: int, source: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for n, ext in enumerate(source.get("extensions") or []):
        conf = ext if isinstance(ext, dict) else {"user": str(ext)}
        out.append(
            {
                "user": conf["user"],
                "name": conf.get("name"),
                "mac": conf.get("mac"),
                "where": marks.where(["sources", index, "extensions", n]),
            }
        )
    return out


def _source(marks: ConfigMarks, index: int, source: dict[str, Any]) -> dict[str, Any]:
    base: list[Any] = ["sources", index]
    trunk = source.get("trunk")
    inbound = source.get("inbound") if isinstance(source.get("inbound"), dict) else {}
    return {
        "id": source.get("id"),
        "platform": source.get("platform"),
        "where": marks.where(base),
        "lines": _lines(marks, index, source),
        "trunk": _account(trunk, marks.where([*base, "trunk"])) if isinstance(trunk, dict) else None,
        "accounts": [
            _account(acc, marks.where([*base, "accounts", n]))
            for n, acc in enumerate(source.get("accounts") or [])
        ],
        "extensions": _extensions(marks, index, source),
        "inbound": [
            {"line": line, "extensions": list(users), "where": marks.where([*base, "inbound", line])}
            for line, users in inbound.items()
        ],
    }


def _items(
    marks: ConfigMarks, config: dict[str, Any], block: str, keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The ``id``, ``platform`` and ``keys`` of each item of a list block, with its line."""
    return [
        {
            "id": item.get("id"),
            "platform": item.get("platform"),
            **{key: item.get(key) for key in keys},
            "where": marks.where([block, n]),
        }
        for n, item in enumerate(config.get(block) or [])
    ]


def settings_view(config: dict[str, Any], marks: ConfigMarks) -> dict[str, Any]:
    """Sources (lines, carrier trunk/accounts, extensions, who rings), retention rules and notices."""
    return {
        "file": marks.file or None,
        "sources": [_source(marks, n, s) for n, s in enumerate(config.get("sources") or [])],
        "retention": _items(marks, config, "retention", ("days", "match")),
        "notices": _items(marks, config, "notices", ("file", "directions", "lines", "callers")),
    }
