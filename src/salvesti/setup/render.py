"""The wizard's answers as commented ``config.yaml``, ``secrets.yaml`` and the employees list.

Text, not ``yaml.dump``: the owner will open these files one day, and the comments say what
each block is for and where to read more, in the style of ``config.example.yaml``.  Every
password (each extension's and the carrier's) is a ``!secret`` in the config and lives only in
``secrets.yaml``.  Strings are written as JSON strings, which YAML reads back unchanged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from salvesti.core.schema import system_timezone
from salvesti.setup.state import Account, WizardState

#: Where the informed employees are listed (relative to the config's folder); docs/first-hour.md.
EMPLOYEES_FILE = "data/informed-employees.txt"
SIP_LISTEN = "0.0.0.0:5060"


@dataclass
class Rendered:
    config: str
    secrets: str
    employees: str
    notice_file: str  # the notice's path relative to the config's folder


def q(value: str) -> str:
    """A YAML scalar that reads back as exactly ``value``."""
    return json.dumps(value, ensure_ascii=False)


def secret_name(prefix: str, text: str, taken: dict[str, str] | None = None) -> str:
    """``ext101``, ``account_3726000001``: a readable name, made unique among ``taken``."""
    name = prefix + re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    base, n = name, 2
    while taken is not None and name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def render(state: WizardState, *, http_listen: str, notice_file: str, now: datetime) -> Rendered:
    """All three files' text; the state must be complete (``state.missing()`` empty)."""
    secrets: dict[str, str] = {}
    carrier = state.carrier
    assert carrier is not None and state.purpose is not None
    out = [
        f"# Salvesti configuration, written by `salvesti setup` on {now:%Y-%m-%d %H:%M}.",
        "#",
        "#   salvesti run -c config.yaml",
        "#",
        "# Passwords are in secrets.yaml beside this file (mode 0600; keep it out of e-mail and chats).",
        "# Paths are relative to this file's folder.  Check your edits with",
        "# `salvesti check-config -c config.yaml`; config.example.yaml and docs/ explain every key.",
        "",
        "salvesti:",
        "  data_dir: ./data                 # SQLite database and the recordings",
        f"  timezone: {system_timezone()}",
        "  # The lawful purpose of recording, shown in exports and the audit log.",
        f"  purpose: {q(state.purpose)}",
        f"  # The employees told that their calls are recorded: {EMPLOYEES_FILE}",
        "",
        "http:",
        f"  listen: {http_listen}           # the web UI; users: salvesti users add NAME --role ...",
        "",
        "store: {platform: sqlite}          # data_dir/salvesti.db",
        "",
        "sources:",
        "  - platform: sip_trunk",
        "    id: office",
        f"    listen: {SIP_LISTEN}           # where office phones register (udp and tcp)",
        "    rtp_ports: 10000-10999",
    ]
    if carrier.shape == "trunk" and carrier.trunk is not None:
        secrets["trunk_password"] = carrier.trunk.password
        out += [
            "    # The carrier's SIP trunk: one registration for every number below.",
            f"    trunk: {_account(carrier.trunk, 'trunk_password')}",
            f"    lines: [{', '.join(q(n) for n in carrier.numbers)}]",
        ]
    elif carrier.shape == "accounts":
        out.append("    # One carrier account per number; each registers on its own (docs/gateways.md).")
        out.append("    accounts:")
        for acc in carrier.accounts:
            name = secret_name("account_", acc.line or acc.username, secrets)
            secrets[name] = acc.password
            out.append(f"      - {_account(acc, name)}")
    else:
        out.append("    # No carrier yet: add trunk: and lines: (or accounts:) as config.example.yaml shows.")
    out.append("    extensions:                    # office phones; their passwords are in secrets.yaml")
    for ext in state.extensions:
        name = secret_name("ext", ext.user, secrets)
        secrets[name] = ext.password
        out.append(f"      - {{user: {q(ext.user)}, password: !secret {name}, name: {q(ext.name)}}}")
    if state.inbound:
        pairs = ", ".join(
            f"{q(line)}: [{', '.join(q(u) for u in users)}]" for line, users in state.inbound.items()
        )
        out.append(f"    inbound: {{{pairs}}}   # number -> extensions that ring")
    out += [
        "",
        "sinks:",
        "  - {platform: local, id: disk, path: data/recordings, format: wav}",
        "",
        "notices:",
        "  # Played to the outside party before the call is bridged; see notices/README.md.",
        f"  - {{platform: audio_file, id: notice, file: {q(notice_file)}, directions: [inbound, outbound]}}",
        "",
        "retention:                         # first match wins; days a recording is kept",
    ]
    for index, line in enumerate(carrier.lines, 1):
        if line in state.retention:
            out.append(
                f"  - {{platform: max_age, id: line_{index}, match: {{line: {q(line)}}}, "
                f"days: {state.retention[line]}}}"
            )
    out.append(f"  - {{platform: max_age, id: default, days: {state.retention['default']}}}")
    secrets_text = [
        "# Secrets of config.yaml (`!secret NAME` there reads NAME here).  Written by `salvesti setup`;",
        "# keep this file mode 0600 and out of backups that leave the building.",
    ] + [f"{k}: {q(v)}" for k, v in secrets.items()]
    employees = [
        "# People told that their calls on this box are recorded, and why (salvesti.purpose in",
        f"# config.yaml: {state.purpose}).  Written by `salvesti setup` on {now:%Y-%m-%d};",
        "# one person per line, keep it up to date (docs/first-hour.md).",
        *(state.employees or []),
    ]
    return Rendered(
        "\n".join(out) + "\n", "\n".join(secrets_text) + "\n", "\n".join(employees) + "\n", notice_file
    )


def _account(acc: Account, secret: str) -> str:
    line = f"line: {q(acc.line)}, " if acc.line else ""
    return f"{{{line}registrar: {q(acc.registrar)}, username: {q(acc.username)}, password: !secret {secret}}}"
