"""YAML that remembers where every key and item came from, plus ``!secret``.

Config errors must name ``FILE:LINE`` (see CONTRACT.md), and voluptuous only gives a key
path, so the loader builds :class:`LineDict` / :class:`LineList` nodes that carry the line
of the block itself and of each key or item.  Problems found while loading (a missing
secret, a key given twice) are kept as :class:`LoadProblem` values instead of raised, so
one ``check-config`` run reports every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Mark:
    """A place in a file: the file's display name and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class LineDict(dict):
    """A mapping that knows its own line and the line of each key."""

    mark: Mark
    key_marks: dict[Any, Mark]
    duplicates: list[tuple[Any, Mark, Mark]]  # (key, where repeated, first seen)

    def key_mark(self, key: Any) -> Mark:
        return self.key_marks.get(key, self.mark)


class LineList(list):
    """A sequence that knows its own line and the line of each item."""

    mark: Mark
    item_marks: list[Mark]

    def item_mark(self, index: int) -> Mark:
        if 0 <= index < len(self.item_marks):
            return self.item_marks[index]
        return self.mark


class SecretStr(str):
    """A value read from ``secrets.yaml``: error messages never echo it."""


@dataclass
class LoadProblem:
    """A value that could not be loaded (``!secret`` missing); reported with its key path."""

    mark: Mark
    message: str


class YamlError(Exception):
    """The file could not be parsed; ``line`` is where the parser gave up."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.mark = Mark(file, line)
        self.message = message


def display_name(path: Path, base_dir: Path) -> str:
    """How errors name a file: relative to the config's folder when inside it."""
    try:
        return str(path.resolve().relative_to(base_dir.resolve()))
    except ValueError:
        return str(path)


class Secrets:
    """Lazily loaded ``secrets.yaml`` beside the config file."""

    def __init__(self, path: Path, base_dir: Path) -> None:
        self.path = path
        self.name = display_name(path, base_dir)
        self.base_dir = base_dir
        self._values: dict[str, Any] | None = None
        self._error: str | None = None

    def _load(self) -> None:
        if self._values is not None or self._error is not None:
            return
        if not self.path.exists():
            self._error = f"{self.name} does not exist"
            return
        try:
            data = load_yaml(self.path, self.base_dir, secrets=None)
        except YamlError as err:
            self._error = f"{self.name} could not be read ({err})"
            return
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self._error = f"{self.name} must be a mapping of names to values"
            return
        self._values = dict(data)

    def lookup(self, name: str, mark: Mark) -> Any:
        self._load()
        if self._error is not None:
            return LoadProblem(mark, f"secret {name!r} not found: {self._error}")
        assert self._values is not None
        if name not in self._values:
            return LoadProblem(mark, f"secret {name!r} not found in {self.name}")
        value = self._values[name]
        return SecretStr(value) if isinstance(value, str | int | float) else value


def _make_loader(file: str, secrets: Secrets | None) -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    def mark_of(node: yaml.Node) -> Mark:
        return Mark(file, node.start_mark.line + 1)

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineDict:
        loader.flatten_mapping(node)
        out = LineDict()
        out.mark = mark_of(node)
        out.key_marks = {}
        out.duplicates = []
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            key_mark = mark_of(key_node)
            if key in out:
                out.duplicates.append((key, key_mark, out.key_marks[key]))
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_marks[key] = key_mark
        return out

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LineList:
        out = LineList(loader.construct_object(child, deep=True) for child in node.value)
        out.mark = mark_of(node)
        out.item_marks = [mark_of(child) for child in node.value]
        return out

    def construct_secret(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        mark = mark_of(node)
        if not isinstance(node, yaml.ScalarNode):
            return LoadProblem(mark, "!secret needs a name, e.g. !secret trunk_password")
        name = str(loader.construct_scalar(node)).strip()
        if secrets is None:
            return LoadProblem(mark, "!secret cannot be used inside secrets.yaml")
        return secrets.lookup(name, mark)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    Loader.add_constructor("!secret", construct_secret)
    return Loader


#: PyYAML's wording for the usual slips, with what to do about them.
_HINTS = (
    ("'\\t' that cannot start any token", "indent with spaces, not tabs"),
    ("found '<block mapping start>'", "check the indentation of this line against the lines above"),
    ("mapping values are not allowed here", "quote a value that contains ': '"),
    ("found undefined tag handle", "tags are written like !secret name"),
)


def load_yaml(path: Path, base_dir: Path, secrets: Secrets | None) -> Any:
    """Parse ``path`` into LineDict/LineList nodes; raise :class:`YamlError` with file:line."""
    name = display_name(path, base_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise YamlError(str(path), 1, f"cannot read the file: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise YamlError(name, 1, "the file is not UTF-8 text") from None
    loader = _make_loader(name, secrets)(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = err.problem or "invalid YAML"
        if err.context:
            problem = f"{problem} ({err.context})"
        for pattern, hint in _HINTS:
            if pattern in problem:
                problem = f"{problem}; {hint}"
                break
        raise YamlError(name, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as err:
        raise YamlError(name, 1, f"invalid YAML: {err}") from None
    finally:
        loader.dispose()
