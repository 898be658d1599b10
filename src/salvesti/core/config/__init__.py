"""Loading and validating ``config.yaml``.

``load_config(path, plugins)`` returns the validated config as plain dicts and lists, or
raises :class:`~salvesti.core.errors.ConfigError` whose ``errors`` are one line each:
``FILE:LINE: dotted.key: message``.  Files are named relative to the config's folder
(``config.yaml``, ``secrets.yaml``), which keeps messages short and stable wherever the
folder lives.  ``salvesti.data_dir`` (and ``store.path``) come back as absolute paths,
resolved against the config's folder, so tools that only get the dict find the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from salvesti.core.config.marks import ConfigMarks
from salvesti.core.config.problems import Problem, dotted
from salvesti.core.config.validate import Validator, load_problems
from salvesti.core.config.yaml_loader import Mark, Secrets, YamlError, display_name, load_yaml
from salvesti.core.errors import ConfigError
from salvesti.core.plugins import PluginManager
from salvesti.core.schema import system_timezone

__all__ = ["ConfigError", "ConfigMarks", "load_config", "load_config_with_marks", "resolve_path"]


def resolve_path(config_dir: Path, value: str | Path) -> Path:
    """Config paths are relative to the folder holding the config file."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else (config_dir / p).resolve()


def load_config(path: Path, plugins: PluginManager, warnings: list[str] | None = None) -> dict[str, Any]:
    """Load, validate and return the config; raise ConfigError listing every problem.

    Warnings (valid, but worth a look: a certificate near its end) are appended to
    ``warnings`` as ``FILE:LINE: key: message`` lines when a list is given.
    """
    return load_config_with_marks(path, plugins, warnings)[0]


def load_config_with_marks(
    path: Path, plugins: PluginManager, warnings: list[str] | None = None
) -> tuple[dict[str, Any], ConfigMarks]:
    """:func:`load_config`, plus where each setting was written (the same parse's lines)."""
    path = Path(path)
    base = path.parent
    name = display_name(path, base)
    try:
        root = load_yaml(path, base, Secrets(base / "secrets.yaml", base))
    except YamlError as err:
        raise ConfigError([str(err)]) from None
    problems: list[Problem] = []
    bad_paths: list[list[Any]] = []
    load_problems(root, [], problems, bad_paths)
    validator = Validator(root, Mark(name, 1), plugins, config_dir=base.resolve())
    config = validator.run()
    # A missing secret already says what is wrong there; drop the schema's echo of it.
    bad = {dotted(p) for p in bad_paths}
    problems.extend(p for p in validator.problems if p.key not in bad)
    if problems:
        lines = [str(p) for p in sorted(problems, key=lambda p: (p.mark.file != name, p.mark.line))]
        raise ConfigError(list(dict.fromkeys(lines)))
    if warnings is not None:
        warnings.extend(dict.fromkeys(str(w) for w in validator.warnings))
    core = config["salvesti"]
    core["data_dir"] = str(resolve_path(base, core["data_dir"]))
    core.setdefault("timezone", system_timezone())
    if isinstance(config["store"].get("path"), str):
        config["store"]["path"] = str(resolve_path(base, config["store"]["path"]))
    return config, ConfigMarks(root if isinstance(root, dict) else None, name)
