"""``salvesti keys init|rotate`` and ``run`` with an encrypted sink but no key, as real processes."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from salvesti.core.crypto.keyring import Keyring
from salvesti.core.crypto.master import load
from test_cli import salvesti

CONFIG = """
salvesti:
  data_dir: ./data
  timezone: Europe/Tallinn
  purpose: "Klienditeeninduse kvaliteedi parandamine"
  key_file: keys/salvesti.key
sinks:
  - {platform: local, id: disk, encrypt: true}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "config.yaml").write_text(textwrap.dedent(CONFIG).lstrip(), encoding="utf-8")
    return tmp_path


def test_run_refuses_to_start_without_the_key_and_says_so(folder):
    result = salvesti("run", "-c", "config.yaml", cwd=folder)
    assert result.returncode == 1
    key = folder / "keys" / "salvesti.key"
    assert f"could not start: encryption is on but the key file {key} does not exist" in result.stderr
    assert "salvesti keys init -c CONFIG" in result.stderr


def test_keys_init_writes_0600_once_and_never_overwrites(folder):
    first = salvesti("keys", "init", "-c", "config.yaml", cwd=folder)
    assert first.returncode == 0, first.stderr
    key = folder / "keys" / "salvesti.key"
    assert os.stat(key).st_mode & 0o777 == 0o600
    before = key.read_bytes()
    again = salvesti("keys", "init", "-c", "config.yaml", cwd=folder)
    assert again.returncode == 1
    assert (
        again.stderr == f"error: {key} exists already; a key is never overwritten (it opens the recordings)\n"
    )
    assert key.read_bytes() == before


def test_keys_rotate_rewraps_every_data_key_with_a_new_master(folder):
    assert salvesti("keys", "init", "-c", "config.yaml", cwd=folder).returncode == 0
    key_file = folder / "keys" / "salvesti.key"
    old = load(key_file)
    ring = Keyring.open(key_file, folder / "data" / "keys.db")
    data_key = ring.new_key("call-1")
    ring.close()
    result = salvesti("keys", "rotate", "-c", "config.yaml", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "re-wrapped 1 data key(s)" in result.stdout
    new = load(key_file)
    assert new != old and not (folder / "keys" / "salvesti.key.new").exists()
    ring = Keyring.open(key_file, folder / "data" / "keys.db")
    try:
        assert ring.data_key("call-1") == data_key
    finally:
        ring.close()
