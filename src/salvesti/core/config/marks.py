"""Where each setting of the running config was written: ``config.yaml:LINE`` by key path.

Settings that YAML owns stay in YAML; a page that shows one it cannot edit says which file
and line to open instead.  The loader already keeps the line of every key and item for its
error messages (:class:`~salvesti.core.config.yaml_loader.LineDict`/``LineList``), so this
keeps that tree and answers from it: nothing is parsed a second time, and the line shown is
the one ``check-config`` would name.
"""

from __future__ import annotations

from collections.abc import Sequence

from salvesti.core.config.problems import locate, value_at
from salvesti.core.config.yaml_loader import LineDict, LineList, Mark

__all__ = ["ConfigMarks"]

Step = str | int


class ConfigMarks:
    """The loaded (not yet validated) tree of one config file, asked by key path."""

    def __init__(self, root: LineDict | None, file: str) -> None:
        self._root = root
        self.file = file

    @classmethod
    def unknown(cls) -> ConfigMarks:
        """For a hub built from a plain dict (tests, tools): every answer is None."""
        return cls(None, "")

    def where(self, path: Sequence[Step]) -> str | None:
        """``config.yaml:12`` for the key or list item at ``path`` (``["sources", 0,
        "extensions", 1]``), or None when the file does not hold it (a default)."""
        if self._root is None or not path:
            return None
        parent = value_at(self._root, list(path[:-1])) if len(path) > 1 else self._root
        last = path[-1]
        present = (isinstance(parent, LineDict) and last in parent) or (
            isinstance(parent, LineList) and isinstance(last, int) and 0 <= last < len(parent)
        )
        if not present:
            return None
        return str(locate(self._root, list(path), Mark(self.file, 1)))

    def item_index(self, block: str, item_id: str) -> int | None:
        """The index of the ``- platform: ..., id: item_id`` item in a top-level list block."""
        items = self._root.get(block) if self._root is not None else None
        if not isinstance(items, list):
            return None
        for index, item in enumerate(items):
            if isinstance(item, dict) and str(item.get("id")) == item_id:
                return index
        return None

    def of_item(self, block: str, item_id: str, *rest: Step) -> str | None:
        """Where ``rest`` of the item ``item_id`` of ``block`` is (the item itself without ``rest``)."""
        index = self.item_index(block, item_id)
        return None if index is None else self.where([block, index, *rest])

    def list_index(self, path: Sequence[Step], match: object, key: str = "user") -> int | None:
        """The index in the list at ``path`` of the item equal to ``match``, or whose ``key``
        is (extensions are written both as ``"101"`` and ``{user: "101", ...}``)."""
        items = value_at(self._root, list(path)) if self._root is not None else None
        if not isinstance(items, list):
            return None
        for index, item in enumerate(items):
            value = item.get(key) if isinstance(item, dict) else item
            if str(value) == str(match):
                return index
        return None
