"""Which ``config.yaml`` line a shown setting comes from (diagnostics, an extension's provisioning).

The page cannot change these settings (YAML owns them); naming the file and line is how it
helps.  Every answer comes from the hub's :class:`~salvesti.core.config.ConfigMarks`, the
lines the loader kept; a setting left at its default has no line and gets None.
"""

from __future__ import annotations

from salvesti.core.config import ConfigMarks
from salvesti.core.diagnostics import CarrierRegistration
from salvesti.core.hub import CONFIG_BLOCKS

#: Components configured as a block of their own rather than an item of a list.
_SINGLE_BLOCKS = {"store": "store", "http": "http", "analysis": "analysis"}


def registration_where(marks: ConfigMarks, source: str, reg: CarrierRegistration) -> str | None:
    """The ``trunk:`` block, or the ``accounts:`` item of the registration's line."""
    if reg.key == "trunk":
        return marks.of_item("sources", source, "trunk")
    index = marks.item_index("sources", source)
    if index is None:
        return None
    account = marks.list_index(["sources", index, "accounts"], reg.line, key="line")
    return None if account is None else marks.where(["sources", index, "accounts", account])


def extension_where(marks: ConfigMarks, source: str, user: str) -> str | None:
    """The extension's item in its source's ``extensions:`` list."""
    index = marks.item_index("sources", source)
    if index is None:
        return None
    item = marks.list_index(["sources", index, "extensions"], user)
    return None if item is None else marks.where(["sources", index, "extensions", item])


def media_where(marks: ConfigMarks, source: str) -> str | None:
    """``rtp_ports`` when it is written, else the source's item (the default range applies)."""
    return marks.of_item("sources", source, "rtp_ports") or marks.of_item("sources", source)


def retention_where(marks: ConfigMarks, rule_id: str | None) -> str | None:
    """The ``days`` of the retention rule the disk check counts with."""
    if rule_id is None:
        return None
    return marks.of_item("retention", rule_id, "days") or marks.of_item("retention", rule_id)


def component_where(marks: ConfigMarks, kind: str, item_id: str) -> str | None:
    """A component's item (``sources[1]``) or block (``store:``, ``http:``)."""
    if item_id in _SINGLE_BLOCKS and kind in ("store", "integration"):
        return marks.where([_SINGLE_BLOCKS[item_id]])
    block = CONFIG_BLOCKS.get(kind)
    return None if block is None else marks.of_item(block, item_id)
