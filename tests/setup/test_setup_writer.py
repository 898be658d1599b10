"""The config writer: what it writes passes check-config's own validator, keeps every password
in secrets.yaml (mode 0600) as !secret, carries comments, and writes all files or none."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from setup_env import EXT_PASSWORD, TRUNK_PASSWORD, full_state, plugins

from salvesti.core.config import load_config
from salvesti.setup.notices import bundled
from salvesti.setup.render import render
from salvesti.setup.writer import WriteError, notice_target, write_atomic_set

NOW = datetime(2026, 12, 7, 16, 0)


def write(folder: Path, shape: str = "trunk") -> list[Path]:
    state = full_state(shape)
    source = bundled()["et"]
    rendered = render(
        state, http_listen="127.0.0.1:8080", notice_file=notice_target(folder, source, "et.wav"), now=NOW
    )
    return write_atomic_set(folder / "config.yaml", rendered, source, plugins())


@pytest.mark.parametrize("shape", ["trunk", "accounts", "none"])
def test_written_files_pass_the_validator(tmp_path: Path, shape: str) -> None:
    written = write(tmp_path, shape)
    assert [p.name for p in written] == ["et.wav", "informed-employees.txt", "secrets.yaml", "config.yaml"]
    config = load_config(tmp_path / "config.yaml", plugins())
    source = config["sources"][0]
    assert [e["user"] for e in source["extensions"]] == ["101", "102"]
    assert source["extensions"][1]["name"] == 'Jaan "JT" Tamm'
    if shape == "trunk":
        assert source["trunk"]["password"] == TRUNK_PASSWORD
        assert source["inbound"] == {"+3726000000": ["101", "102"], "+3726000001": ["101", "102"]}
        assert [r["days"] for r in config["retention"]] == [60, 60, 10]
    if shape == "accounts":
        assert [a["line"] for a in source["accounts"]] == ["+3726000001", "+3726000002"]
    assert config["salvesti"]["purpose"] == "Klienditeeninduse kvaliteedi parandamine"


def test_check_config_command_accepts_them(tmp_path: Path) -> None:
    write(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "salvesti", "check-config", "-c", str(tmp_path / "config.yaml")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_passwords_only_in_secrets_with_mode_0600(tmp_path: Path) -> None:
    write(tmp_path)
    config_text = (tmp_path / "config.yaml").read_text()
    secrets = tmp_path / "secrets.yaml"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    for password in (TRUNK_PASSWORD, EXT_PASSWORD):
        assert password not in config_text
        assert password in secrets.read_text()
    assert "password: !secret trunk_password" in config_text
    assert "password: !secret ext101" in config_text


def test_comments_are_written(tmp_path: Path) -> None:
    write(tmp_path)
    text = (tmp_path / "config.yaml").read_text()
    assert text.startswith("# Salvesti configuration, written by `salvesti setup` on 2026-12-07 16:00.")
    assert "# The lawful purpose of recording" in text
    assert "# The employees told that their calls are recorded: data/informed-employees.txt" in text
    assert (tmp_path / "secrets.yaml").read_text().startswith("# Secrets of config.yaml")
    employees = (tmp_path / "data" / "informed-employees.txt").read_text().splitlines()
    assert employees[-2:] == ["Mari Maasikas <mari@pood.ee>", "Jaan Tamm"]


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_an_invalid_config_writes_nothing(tmp_path: Path) -> None:
    state = full_state()
    state.retention["default"] = -1  # the retention schema refuses it
    source = bundled()["et"]
    rendered = render(state, http_listen="127.0.0.1:8080", notice_file="notices/et.wav", now=NOW)
    with pytest.raises(WriteError) as err:
        write_atomic_set(tmp_path / "config.yaml", rendered, source, plugins())
    assert any("retention[0].days" in line or "days" in line for line in err.value.problems), (
        err.value.problems
    )
    assert leftovers(tmp_path) == []


def test_a_failure_while_moving_takes_back_what_was_moved(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the data folder should be")
    with pytest.raises(WriteError) as err:
        write(tmp_path)
    assert "nothing was kept" in str(err.value)
    assert leftovers(tmp_path) == ["data"]  # the notice moved first was taken back, no staging folder


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text("mine: 1\n")
    with pytest.raises(WriteError, match=r"secrets\.yaml exists already"):
        write(tmp_path)
    assert (tmp_path / "secrets.yaml").read_text() == "mine: 1\n"
    assert not (tmp_path / "config.yaml").exists()


def test_a_different_notice_of_the_same_name_is_kept(tmp_path: Path) -> None:
    (tmp_path / "notices").mkdir()
    (tmp_path / "notices" / "et.wav").write_bytes(b"the owner's own recording")
    assert notice_target(tmp_path, bundled()["et"], "et.wav") == "notices/setup-et.wav"
