"""The ``salvesti`` command as users run it: a real process, real config files, a real database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
from salvesti.plugins.store_sqlite import SqliteStore

SALVESTI = str(Path(sys.executable).parent / "salvesti")
TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=TZ)

CONFIG = """
salvesti:
  data_dir: ./data
  timezone: Europe/Tallinn
  purpose: "Klienditeeninduse kvaliteedi parandamine"
retention:
  - {platform: max_age, id: sales, match: {line: "+3726000000"}, days: 60}
  - {platform: max_age, id: default, days: 10}
"""


def salvesti(*args: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SALVESTI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "config.yaml").write_text(textwrap.dedent(CONFIG).lstrip(), encoding="utf-8")
    return tmp_path


def make_call(folder: Path, n: int, *, minutes: int, **kw) -> Call:
    started = kw.pop("started_at", T0 + timedelta(minutes=minutes))
    rec = folder / "data" / "recordings" / f"c{n}.wav"
    rec.parent.mkdir(parents=True, exist_ok=True)
    rec.write_bytes(b"RIFF")
    call = Call(
        id=f"c{n}",
        source="office",
        direction=kw.pop("direction", Direction.INBOUND),
        line=kw.pop("line", "+3726000000"),
        remote_number=kw.pop("remote_number", "+3725551234"),
        started_at=started,
        answered_at=started + timedelta(seconds=3),
        ended_at=started + timedelta(seconds=75),
        disposition=Disposition.ANSWERED,
        recording=RecordingInfo(path=str(rec), status="saved", bytes=4, duration_s=72.0),
    )
    call.add_extension("101")
    for key, value in kw.items():
        setattr(call, key, value)
    return call


def seed(folder: Path, calls: list[Call]) -> None:
    async def go() -> None:
        async with SqliteStore(folder / "data" / "salvesti.db", tz=TZ) as store:
            for call in calls:
                await store.save_call(call)

    asyncio.run(go())


def test_check_config_valid_and_default_path(folder):
    result = salvesti("check-config", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "config.yaml: configuration is valid\n"


def test_check_config_prints_one_line_per_problem_and_exits_2(folder):
    (folder / "bad.yaml").write_text(
        textwrap.dedent(
            """\
            salvesti:
              purpose: x
              timezon: Europe/Tallinn
            retention:
              - {platform: max_age, id: default, dayz: 10}
              - {platform: max_ag, id: other, days: 10}
            """
        )
    )
    result = salvesti("check-config", "-c", "bad.yaml", cwd=folder)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "bad.yaml:3: salvesti.timezon: extra key not allowed, did you mean 'timezone'?",
        "bad.yaml:5: retention[0].dayz: extra key not allowed, did you mean 'days'?",
        "bad.yaml:5: retention[0] (max_age 'default'): required key 'days' not provided",
        "bad.yaml:6: retention[1].platform: unknown retention platform 'max_ag', did you mean 'max_age'?",
    ]


def test_every_config_command_reports_a_missing_file(tmp_path):
    # `run` on a missing file serves the first-run setup instead (tests/setup/test_setup_cli.py).
    for command in (["check-config"], ["calls", "list"], ["retention", "sweep"]):
        result = salvesti(*command, "-c", "missing.yaml", cwd=tmp_path)
        assert result.returncode == 2, command
        assert result.stderr == "missing.yaml:1: cannot read the file: No such file or directory\n"


def test_calls_list_json_filters_and_table(folder):
    seed(
        folder,
        [
            make_call(folder, 1, minutes=1),
            make_call(folder, 2, minutes=2, direction=Direction.OUTBOUND, remote_number="+3725000000"),
            make_call(folder, 3, minutes=3, tags=["vip"], outcome="won"),
        ],
    )
    result = salvesti("calls", "list", "-c", "config.yaml", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    assert [c["id"] for c in calls] == ["c3", "c2", "c1"]
    first = calls[2]
    assert first["started_at"] == "2026-03-01T09:01:00+02:00"
    assert first["duration_s"] == 72.0 and first["extension"] == "101"
    assert first["recording"]["path"] == str(folder / "data" / "recordings" / "c1.wav")
    assert set(first) >= set(
        "id source direction line remote_number extension started_at answered_at ended_at duration_s"
        " disposition recording notice retention outcome tags notes".split()
    )

    def ids(*args: str) -> list[str]:
        out = salvesti("calls", "list", "--json", *args, cwd=folder)
        assert out.returncode == 0, out.stderr
        return [c["id"] for c in json.loads(out.stdout)]

    assert ids("--number", "5551234") == ["c3", "c1"]
    assert ids("--direction", "outbound") == ["c2"]
    assert ids("--since", "2026-03-01T09:02") == ["c3", "c2"]
    assert ids("--since", "2026-03-01T07:02:30+00:00") == ["c3"]
    assert ids("--tag", "vip") == ["c3"]
    assert ids("--limit", "1") == ["c3"]

    table = salvesti("calls", "list", cwd=folder)
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "STARTED",
        "DIRECTION",
        "LINE",
        "REMOTE",
        "EXT",
        "TALK",
        "DISPOSITION",
        "RECORDING",
        "ID",
    ]
    assert lines[1].split() == (
        "2026-03-01 09:03:00 inbound +3726000000 +3725551234 101 1:12 answered saved c3".split()
    )
    assert lines[-1] == "3 calls"

    bad = salvesti("calls", "list", "--since", "yesterday", cwd=folder)
    assert bad.returncode == 2 and bad.stderr.startswith("--since: expected an ISO 8601 date or time")


def test_calls_list_on_a_fresh_folder(folder):
    result = salvesti("calls", "list", "--json", cwd=folder)
    assert (result.returncode, result.stdout.strip()) == (0, "[]")
    assert salvesti("calls", "list", cwd=folder).stdout == "No calls.\n"


def test_calls_show(folder):
    seed(folder, [make_call(folder, 7, minutes=7, notes="Asked for a quote")])
    result = salvesti("calls", "show", "c7", "--json", cwd=folder)
    assert result.returncode == 0
    assert json.loads(result.stdout)["notes"] == "Asked for a quote"
    text = salvesti("calls", "show", "c7", cwd=folder).stdout
    assert "remote number  +3725551234" in text and "notes          Asked for a quote" in text
    missing = salvesti("calls", "show", "nope", cwd=folder)
    assert (missing.returncode, missing.stdout, missing.stderr) == (1, "", "call 'nope' not found\n")


def test_retention_sweep_dry_run_then_for_real(folder):
    old = make_call(folder, 1, minutes=1, line="+3726999999")  # default rule: 10 days
    recent = datetime.now(TZ) - timedelta(days=30)
    kept = make_call(folder, 2, minutes=2, started_at=recent)  # sales line: 60 days
    held = make_call(folder, 3, minutes=3, line="+3726999999")
    held.retention.legal_hold = True
    seed(folder, [old, kept, held])
    dry = salvesti("retention", "sweep", "--dry-run", cwd=folder)
    assert dry.returncode == 0, dry.stderr
    rec = folder / "data" / "recordings"
    assert dry.stdout.splitlines() == [
        f"would delete  c1  2026-03-01T09:01:00+02:00  +3725551234  rule=default  {rec / 'c1.wav'}",
        "1 recording would be deleted (dry run, nothing changed)",
    ]
    assert (rec / "c1.wav").exists()
    done = salvesti("retention", "sweep", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "1 recording deleted"
    assert not (rec / "c1.wav").exists() and (rec / "c2.wav").exists() and (rec / "c3.wav").exists()
    shown = json.loads(salvesti("calls", "show", "c1", "--json", cwd=folder).stdout)
    assert shown["recording"]["status"] == "deleted"
    assert shown["retention"]["delete_after"] == "2026-03-11T09:02:15+02:00"
    assert salvesti("retention", "sweep", cwd=folder).stdout == "0 recordings deleted\n"


def test_plugins_list(tmp_path):
    result = salvesti("plugins", "list", "--json", cwd=tmp_path)
    assert result.returncode == 0
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    store = plugins["salvesti.plugins.store_sqlite"]
    assert store["platforms"] == ["store:sqlite"] and store["hooks"] == ["register_stores"]
    assert store["version"] and store["builtin"] is True
    assert plugins["salvesti.plugins.retention_max_age"]["platforms"] == ["retention:max_age"]
    text = salvesti("plugins", "list", cwd=tmp_path).stdout
    assert "salvesti.plugins.store_sqlite 0.1.0 (built-in)\n  platforms: store:sqlite\n" in text
