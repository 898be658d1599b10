"""``salvesti keys init`` and ``salvesti keys rotate``: the master key of encrypted sinks.

``init`` writes ``salvesti.key_file`` (mode 0600) and never overwrites one: a lost or replaced
key makes every encrypted recording noise.  ``rotate`` makes a new master key, re-wraps every
data key with it in one transaction and only then puts it in place of the old one; Salvesti
must be stopped (the keyring lock says so), and a rotation cut off half-way is finished by
running it again (the new key waits in ``<key_file>.new`` and opens the keys it wrapped).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from salvesti.cli_common import CommandError, add_config_argument, bare_hub, load
from salvesti.core.crypto import master
from salvesti.core.crypto.keyring import Keyring, pending_path


def cmd_keys_init(args: argparse.Namespace) -> int:
    hub = bare_hub(load(args))
    try:
        key = master.write_new(hub.key_file)
    except master.KeyFileError as err:
        raise CommandError(f"error: {err}") from None
    print(f"wrote master key {key.id} to {hub.key_file} (mode 0600)")
    print("keep a copy apart from the recordings: without it no encrypted recording can be played")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    hub = bare_hub(load(args))
    pending = pending_path(hub.key_file)
    try:
        keyring = Keyring.open(hub.key_file, hub.data_dir / "keys.db", exclusive=True)
        try:
            new = master.load(pending) if pending.exists() else master.write_new(pending)
            count = keyring.rotate(new)
        finally:
            keyring.close()
    except master.KeyFileError as err:
        raise CommandError(f"error: {err}") from None
    os.replace(pending, hub.key_file)
    fd = os.open(hub.key_file.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    print(f"re-wrapped {count} data key(s) with the new master key {new.id} in {hub.key_file}")
    print("the old key opens nothing any more; replace any copy of it with the new one")
    return 0


def add_commands(sub: Any) -> None:
    keys = sub.add_parser("keys", help="the master key of encrypted sinks").add_subparsers(
        dest="keys_command", metavar="ACTION"
    )
    init = keys.add_parser("init", help="write a new master key to salvesti.key_file (never overwrites)")
    add_config_argument(init)
    init.set_defaults(func=cmd_keys_init)
    rotate = keys.add_parser(
        "rotate", help="re-wrap every data key with a new master key (stop salvesti first)"
    )
    add_config_argument(rotate)
    rotate.set_defaults(func=cmd_keys_rotate)
