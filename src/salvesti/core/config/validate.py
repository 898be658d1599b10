"""The two validation passes: the file's structure, then each item by its platform's schema.

Structure first (top-level keys, list items with ``platform`` and a unique ``id``, the core
``salvesti:`` block), so that a platform schema only ever sees an item that is a mapping
naming a known platform.  Every problem found is collected; nothing stops at the first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import voluptuous as vol

from salvesti.core.config.problems import ConfigWarning, Problem, dotted, from_exception, locate
from salvesti.core.config.yaml_loader import LineDict, LineList, LoadProblem, Mark
from salvesti.core.plugins import Platform, PluginManager
from salvesti.core.schema import CORE_SCHEMA, DEFAULT_STORE, LIST_KINDS, TOP_LEVEL_KEYS, check_core, suggest


def plain(value: Any) -> Any:
    """Loaded nodes → plain dict/list/str, which is what platform schemas and factories get."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def load_problems(node: Any, path: list[Any], out: list[Problem], bad_paths: list[list[Any]]) -> None:
    """Problems kept in the tree by the loader: missing secrets and repeated keys."""
    if isinstance(node, LoadProblem):
        out.append(Problem(node.mark, dotted(path), node.message))
        bad_paths.append(path)
    elif isinstance(node, LineDict):
        for key, mark, first in node.duplicates:
            out.append(
                Problem(mark, dotted([*path, key]), f"duplicate key (first given at line {first.line})")
            )
        for key, value in node.items():
            load_problems(value, [*path, key], out, bad_paths)
    elif isinstance(node, LineList):
        for index, value in enumerate(node):
            load_problems(value, [*path, index], out, bad_paths)


class Validator:
    """Validates one loaded file against the core schemas and the registered platforms."""

    def __init__(
        self, root: Any, file_mark: Mark, plugins: PluginManager, config_dir: Path | None = None
    ) -> None:
        self.root = root
        self.config_dir = config_dir
        self.top = file_mark
        self.plugins = plugins
        self.problems: list[Problem] = []
        #: Cross-check messages marked :class:`ConfigWarning`: shown, but the file is valid.
        self.warnings: list[Problem] = []
        self._validated: list[tuple[list[Any], Platform, dict[str, Any]]] = []

    def run(self) -> dict[str, Any]:
        root = self.root
        if root is None:
            root = LineDict()
            root.mark, root.key_marks, root.duplicates = self.top, {}, []
        if not isinstance(root, dict):
            self.problems.append(
                Problem(self.top, "", "the file must be a mapping of blocks (salvesti:, ...)")
            )
            return {}
        out: dict[str, Any] = {}
        for key in root:
            if key not in TOP_LEVEL_KEYS:
                hint = suggest(key, TOP_LEVEL_KEYS)
                self.problems.append(Problem(root.key_mark(key), str(key), f"extra key not allowed{hint}"))
        out["salvesti"] = self._core(root)
        out["store"] = self._store(root)
        out["http"] = self._singleton(root, "http", bare_ok=True)
        out["analysis"] = self._singleton(root, "analysis", bare_ok=False)
        for key, kind in LIST_KINDS.items():
            out[key] = self._list(root, key, kind)
        if not self.problems:  # on a partly invalid file they would report echoes of the real problem
            self._core_needs(out)
            self._cross_checks(out)
        return out

    def _core_needs(self, config: dict[str, Any]) -> None:
        """Core keys that need another block: the employee register lives in the web UI's database."""
        if config["salvesti"].get("require_employee_notice") and config.get("http") is None:
            where = ["salvesti", "require_employee_notice"]
            self.problems.append(
                Problem(
                    locate(self.root, where, self.top),
                    dotted(where),
                    "needs the http: block (employees acknowledge the notice in the web UI, and its "
                    "database keeps the register); without it no call with an extension is recorded",
                )
            )

    def _cross_checks(self, config: dict[str, Any]) -> None:
        """Checks that need the whole file: ``platform.extra["check"](item, config)``.

        A platform offers one to catch what its own schema cannot see (a SIP line with no
        notice configured for it); it returns ``(path within the item, message)`` pairs.  A
        message that is a :class:`ConfigWarning` is a warning, not a problem.
        """
        for path, platform, item in self._validated:
            check = platform.extra.get("check")
            if not callable(check):
                continue
            try:
                # Checks that look at files get the folder relative paths are taken from.
                found = check(item, {**config, "_config_dir": str(self.config_dir or ".")})
            except Exception as err:
                found = [([], f"{platform.kind} platform {platform.name!r} check failed: {err!r}")]
            for sub, message in found or []:
                where = [*path, *sub]
                found_at = Problem(locate(self.root, where, self.top), dotted(where), str(message))
                (self.warnings if isinstance(message, ConfigWarning) else self.problems).append(found_at)

    # -- blocks ----------------------------------------------------------------------------
    def _schema_problems(self, err: vol.Invalid, prefix: list[Any], schema: Any, label: str = "") -> None:
        self.problems.extend(
            from_exception(
                err,
                root=self.root,
                prefix=prefix,
                schema=schema,
                label=label,
                default=locate(self.root, prefix, self.top),
            )
        )

    def _core(self, root: dict[str, Any]) -> dict[str, Any]:
        if "salvesti" not in root:
            self.problems.append(
                Problem(root.mark, "", "required key 'salvesti' not provided (it holds purpose:)")
            )
            return {}
        block = root["salvesti"]
        if block is None or not isinstance(block, dict):
            mark = root.key_mark("salvesti")
            if block is None:
                self.problems.append(Problem(mark, "salvesti", "required key 'purpose' not provided"))
            else:
                self.problems.append(Problem(mark, "salvesti", "expected a mapping"))
            return {}
        try:
            return check_core(CORE_SCHEMA(plain(block)))
        except vol.Invalid as err:
            self._schema_problems(err, ["salvesti"], CORE_SCHEMA)
            return {}

    def _mapping_block(self, root: dict[str, Any], key: str) -> Any:
        block = root.get(key)
        if block is not None and not isinstance(block, dict):
            self.problems.append(Problem(root.key_mark(key), key, "expected a mapping"))
            return None
        return block

    def _store(self, root: dict[str, Any]) -> dict[str, Any]:
        block = self._mapping_block(root, "store")
        if block is None:
            return dict(DEFAULT_STORE)
        return self._platform_item(block, ["store"], "store", need_id=False) or {}

    def _singleton(self, root: dict[str, Any], key: str, *, bare_ok: bool) -> dict[str, Any] | None:
        """A top-level block served by the integration platform of the same name (``http``,
        ``analysis``); ``bare_ok``: a bare ``key:`` turns it on with its defaults."""
        if key not in root:
            return None
        block = self._mapping_block(root, key)
        if block is None:
            if root[key] is not None or not bare_ok:
                if root[key] is None:
                    self.problems.append(Problem(root.key_mark(key), key, "expected a mapping"))
                return None
            block = {}
        platform = self.plugins.get("integration", key)
        if platform is None:
            self.problems.append(
                Problem(root.key_mark(key), key, f"no plugin provides the {key!r} integration")
            )
            return None
        item = {"platform": key, **plain(block)}
        try:
            validated = platform.schema(item)
        except vol.Invalid as err:
            self._schema_problems(err, [key], platform.schema)
            return None
        except Exception as err:
            mark = root.key_mark(key)
            self.problems.append(Problem(mark, key, f"the {key} platform failed to validate: {err!r}"))
            return None
        self._validated.append(([key], platform, dict(validated)))
        validated = dict(validated)
        validated.pop("platform", None)
        return validated

    def _list(self, root: dict[str, Any], key: str, kind: str) -> list[dict[str, Any]]:
        items = root.get(key)
        if items is None:
            return []
        if not isinstance(items, list):
            self.problems.append(
                Problem(root.key_mark(key), key, "expected a list of '- platform: ...' items")
            )
            return []
        out = []
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            path = [key, index]
            validated = self._platform_item(item, path, kind, need_id=True)
            item_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(item_id, str):
                if item_id in seen:
                    self.problems.append(
                        Problem(
                            locate(self.root, [*path, "id"], self.top),
                            dotted([*path, "id"]),
                            f"duplicate id {item_id!r} (also used by {key}[{seen[item_id]}])",
                        )
                    )
                else:
                    seen[item_id] = index
            if validated is not None:
                out.append(validated)
        return out

    def _platform_item(
        self, item: Any, path: list[Any], kind: str, *, need_id: bool
    ) -> dict[str, Any] | None:
        where = locate(self.root, path, self.top)
        key = dotted(path)
        if not isinstance(item, dict):
            self.problems.append(Problem(where, key, "expected a mapping with 'platform' and 'id'"))
            return None
        name = item.get("platform")
        item_mark = getattr(item, "mark", where)
        if name is None:
            self.problems.append(Problem(item_mark, key, "required key 'platform' not provided"))
            return None
        label = f"({name} {item['id']!r})" if isinstance(item.get("id"), str) else f"({name})"
        if need_id and "id" not in item:
            self.problems.append(Problem(item_mark, f"{key} {label}", "required key 'id' not provided"))
            return None
        if need_id and not isinstance(item["id"], str):
            self.problems.append(
                Problem(item.key_mark("id"), f"{key}.id", "expected a text id, e.g. id: office")
            )
            return None
        platform = self.plugins.get(kind, name) if isinstance(name, str) else None
        if platform is None:
            known = sorted(self.plugins.platforms.get(kind, {}))
            hint = suggest(name, known) or (
                f" (known: {', '.join(known)})" if known else " (no plugin provides any)"
            )
            self.problems.append(
                Problem(
                    item.key_mark("platform"), f"{key}.platform", f"unknown {kind} platform {name!r}{hint}"
                )
            )
            return None
        try:
            validated = dict(platform.schema(plain(item)))
            self._validated.append((path, platform, validated))
            return validated
        except vol.Invalid as err:
            self._schema_problems(err, path, platform.schema, label)
        except Exception as err:  # a plugin's validator with a bug must not hide the other problems
            self.problems.append(
                Problem(item_mark, f"{key} {label}", f"{kind} platform {name!r} failed to validate: {err!r}")
            )
        return None
