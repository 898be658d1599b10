"""The master key file and the keyring: 0600, never overwritten, clear errors, crypto-erase, rotation."""

from __future__ import annotations

import os

import pytest

from salvesti.core.crypto import master
from salvesti.core.crypto.keyring import Keyring
from salvesti.core.crypto.master import KeyFileError, MasterKey


def test_a_new_key_file_is_0600_and_never_overwritten(tmp_path):
    path = tmp_path / "k" / "salvesti.key"
    key = master.write_new(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert master.load(path) == key
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="exists already; a key is never overwritten"):
        master.write_new(path)
    assert path.read_bytes() == before


def test_load_says_what_is_wrong(tmp_path):
    path = tmp_path / "salvesti.key"
    with pytest.raises(KeyFileError, match=r"does not exist; create one with `salvesti keys init"):
        master.load(path)
    master.write_new(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        master.load(path)
    path.chmod(0o600)
    path.write_text("salvesti-key-v1:c2hvcnQ=\n")
    with pytest.raises(KeyFileError, match="damaged"):
        master.load(path)


def test_data_keys_are_wrapped_per_call_and_forgotten_for_good(tmp_path):
    ring = Keyring(tmp_path / "keys.db", [MasterKey.generate()])
    try:
        key = ring.new_key("call-1")
        assert ring.data_key("call-1") == key and len(key) == 32
        assert key not in (tmp_path / "keys.db").read_bytes()  # only wrapped on disk
        assert ring.forget("call-1") and not ring.forget("call-1")
        assert ring.data_key("call-1") is None
    finally:
        ring.close()


def test_rotation_rewraps_every_key_and_the_old_master_opens_nothing(tmp_path):
    old, new = MasterKey.generate(), MasterKey.generate()
    ring = Keyring(tmp_path / "keys.db", [old])
    keys = {f"call-{i}": ring.new_key(f"call-{i}") for i in range(3)}
    assert ring.rotate(new) == 3
    ring.close()
    ring = Keyring(tmp_path / "keys.db", [new])
    try:
        assert {c: ring.data_key(c) for c in keys} == keys
    finally:
        ring.close()
    ring = Keyring(tmp_path / "keys.db", [old])
    try:
        with pytest.raises(KeyFileError, match="wrapped by master key"):
            ring.data_key("call-0")
    finally:
        ring.close()


def test_rotation_is_refused_while_salvesti_holds_the_keyring(tmp_path):
    key = tmp_path / "salvesti.key"
    master.write_new(key)
    running = Keyring.open(key, tmp_path / "keys.db")
    try:
        with pytest.raises(KeyFileError, match="in use: salvesti is running"):
            Keyring.open(key, tmp_path / "keys.db", exclusive=True)
    finally:
        running.close()
    Keyring.open(key, tmp_path / "keys.db", exclusive=True).close()
