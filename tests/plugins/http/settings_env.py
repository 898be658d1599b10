"""A real config.yaml (with secrets.yaml and its notice) written by a test and loaded the way
``salvesti run`` loads it, for the tests that check the file and line the web UI names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diag_env import free_block, free_sip_port
from http_env import make_notice

from salvesti.core.config import ConfigMarks, load_config_with_marks
from salvesti.core.plugins import PluginManager

TRUNK_SECRET = "Carrier-secret-77"
EXT_SECRET = "Ext-secret-101-xyz"

CONFIG = """\
# Written by a test: the web UI must point at these lines.
salvesti:
  data_dir: ./data
  purpose: "Klienditeeninduse kvaliteet"
http:
  listen: 127.0.0.1:0
sources:
  - platform: sip_trunk
    id: office
    listen: 127.0.0.1:{sip}
    rtp_ports: {low}-{high}
    trunk: {{registrar: "127.0.0.1:{carrier}", username: "3726000000", password: !secret trunk}}
    lines: ["+3726000000", "+3726000001"]
    extensions:
      - {{user: "101", password: !secret ext101, name: "Mari", mac: "00:15:65:12:34:56"}}
      - {{user: "102", password: !secret ext102}}
    inbound:
      "+3726000000": ["101", "102"]
    provisioning: {{transport: udp}}
retention:
  - {{platform: max_age, id: sales, match: {{line: "+3726000000"}}, days: 60}}
  - {{platform: max_age, id: default, days: 10}}
notices:
  - {{platform: audio_file, id: et, file: notices/et.wav, directions: [inbound, outbound]}}
"""


def line_of(text: str, needle: str) -> str:
    """``config.yaml:N`` of the one line of ``text`` that contains ``needle``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) == 1, (needle, found)
    return f"config.yaml:{found[0]}"


def write_config(folder: Path, carrier_port: int) -> tuple[str, dict[str, Any], ConfigMarks]:
    """Write :data:`CONFIG` (SIP on free ports, the trunk at ``carrier_port``) and load it;
    the text, the blocks a test hub takes (sources, retention, notices) and the marks."""
    low = free_block(20)
    text = CONFIG.format(sip=free_sip_port(), low=low, high=low + 19, carrier=carrier_port)
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    secrets = {"trunk": TRUNK_SECRET, "ext101": EXT_SECRET, "ext102": "Ext-secret-102-xyz"}
    (folder / "secrets.yaml").write_text("".join(f'{k}: "{v}"\n' for k, v in secrets.items()))
    (folder / "notices").mkdir()
    make_notice(folder / "notices" / "et.wav")
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    config, marks = load_config_with_marks(folder / "config.yaml", plugins)
    return text, {key: config[key] for key in ("sources", "retention", "notices")}, marks
