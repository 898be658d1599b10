"""Disk space against retention (a real temp folder), time sync (real probes with injected
commands), and component states."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.call import Call, Direction, RecordingInfo
from salvesti.plugins.http.diagnostics import clock, disk
from salvesti.plugins.http.diagnostics.check import Check, State, worst
from salvesti.plugins.http.diagnostics.components import component_check

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Tallinn"))
MB = 1024**2
GB = 1024**3


def call(age: timedelta, size: int | None) -> Call:
    return Call(
        id=f"c{age.total_seconds():.0f}",
        source="telia",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number="+3725551234",
        started_at=NOW - age,
        recording=RecordingInfo(path="/x.wav", bytes=size, status="saved") if size is not None else None,
    )


def test_usage_of_a_real_folder_and_of_one_not_made_yet(tmp_path: Path) -> None:
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "a.wav").write_bytes(b"\0" * 4096)
    real = disk.disk_usage(tmp_path / "rec")
    assert real.total > 0 and 0 < real.free <= real.total
    later = disk.disk_usage(tmp_path / "rec" / "2026" / "12")  # made with the first recording
    assert later.total == real.total


def test_bytes_per_day_over_the_last_week() -> None:
    week = [call(timedelta(days=d), 70 * MB) for d in range(7)] + [call(timedelta(days=9), 900 * MB)]
    assert disk.bytes_per_day(week, NOW) == pytest.approx(7 * 70 * MB / 6)  # oldest in the window: 6 days
    young = [call(timedelta(hours=2), 30 * MB), call(timedelta(hours=1), None), call(timedelta(0), 0)]
    assert disk.bytes_per_day(young, NOW) == 30 * MB  # at least a day
    assert disk.bytes_per_day([call(timedelta(days=8), MB)], NOW) is None


def test_enough_short_and_full() -> None:
    usage = disk.DiskUsage(total=100 * GB, used=40 * GB, free=60 * GB)
    ok = disk.disk_check("disk", "/srv/rec", usage, 1 * GB, 30)
    assert (ok.state, ok.advice_key, ok.details["days_left"]) == (State.OK, "diag_disk_ok", 60)
    short = disk.disk_check("disk", "/srv/rec", usage, 1 * GB, 90)
    assert (short.state, short.advice_key) == (State.WARN, "diag_disk_short")
    tight = disk.DiskUsage(total=100 * GB, used=100 * GB - 300 * MB, free=300 * MB)
    low = disk.disk_check("disk", "/srv/rec", tight, 10 * MB, 10)  # 30 days fit, but 300 MB is little
    assert (low.state, low.advice_key) == (State.WARN, "diag_disk_low")
    assert disk.disk_check("disk", "/srv/rec", usage, 100 * GB, 10).advice_key == "diag_disk_full_soon"


def test_no_estimate_and_no_retention() -> None:
    usage = disk.DiskUsage(total=100 * GB, used=40 * GB, free=60 * GB)
    assert disk.disk_check("disk", "/r", usage, None, 30).advice_key == "diag_disk_no_estimate"
    low = disk.DiskUsage(total=10 * GB, used=10 * GB - 100 * MB, free=100 * MB)
    assert disk.disk_check("disk", "/r", low, None, 30).state == State.WARN
    forever = disk.disk_check("disk", "/r", usage, 1 * GB, None)
    assert (forever.state, forever.advice_key) == (State.WARN, "diag_disk_forever")
    assert disk.disk_check("disk", "/r", usage, 100 * MB, None).advice_key == "diag_disk_ok_forever"


def test_the_real_disk_of_a_temp_folder_checks_ok(tmp_path: Path) -> None:
    check = disk.disk_check("disk", str(tmp_path), disk.disk_usage(tmp_path), None, 10)
    assert check.details["free_bytes"] > 0 and check.details["folder"] == str(tmp_path)


def test_time_sync_from_timedatectl(tmp_path: Path) -> None:
    def which(name: str) -> str | None:
        return "/usr/bin/timedatectl"

    assert clock.probe(run=lambda argv: "yes\n", which=which, flag=tmp_path / "no") == (True, "timedatectl")
    assert clock.probe(run=lambda argv: "no\n", which=which, flag=tmp_path / "no") == (False, "timedatectl")


def test_time_sync_falls_back_to_the_timesyncd_flag_then_unknown(tmp_path: Path) -> None:
    def no_bus(argv: list[str]) -> str:  # timedatectl in a container without systemd
        raise subprocess.CalledProcessError(1, argv)

    flag = tmp_path / "synchronized"
    flag.touch()
    assert clock.probe(run=no_bus, which=lambda n: "/usr/bin/timedatectl", flag=flag) == (True, "timesyncd")
    missing = tmp_path / "absent"
    assert clock.probe(which=lambda n: None, flag=missing) == (None, "none")
    assert clock.probe(run=no_bus, which=lambda n: "/x", flag=missing) == (None, "none")


def test_time_sync_on_this_machine_never_raises() -> None:
    synchronised, method = clock.probe()
    assert method in ("timedatectl", "timesyncd", "none")
    assert clock.time_sync_check(synchronised, method, NOW).group == "clock"


def test_time_sync_states() -> None:
    assert clock.time_sync_check(True, "timedatectl", NOW).state == State.OK
    off = clock.time_sync_check(False, "timedatectl", NOW)
    assert (off.state, off.advice_key) == (State.WARN, "diag_clock_not_synced")
    unknown = clock.time_sync_check(None, "none", NOW)
    assert (unknown.state, unknown.advice_key) == (State.WARN, "diag_clock_unknown")
    assert unknown.details["now"] == NOW.isoformat()


@pytest.mark.parametrize(
    ("state", "reason", "expected", "advice"),
    [
        ("loaded", None, State.OK, "diag_comp_ok"),
        ("setup_retry", "broker 127.0.0.1:1883: Connection refused", State.WARN, "diag_comp_retry"),
        ("auth_failed", "bad password", State.FAIL, "diag_comp_auth"),
        (
            "setup_error",
            "SalvestiError: cannot listen on 0.0.0.0:5060: [Errno 98] Address already in use",
            State.FAIL,
            "diag_comp_port_in_use",
        ),
        (
            "setup_error",
            "SalvestiError: local(disk): recordings folder /srv/rec is not writable",
            State.FAIL,
            "diag_comp_permission",
        ),
        (
            "setup_error",
            "FileNotFoundError: [Errno 2] No such file or directory: 'notices/et.wav'",
            State.FAIL,
            "diag_comp_missing_file",
        ),
        ("setup_error", "OSError: [Errno -2] Name or service not known", State.FAIL, "diag_comp_dns"),
        ("setup_error", "ValueError: something else", State.FAIL, "diag_comp_error"),
        ("not_loaded", None, State.WARN, "diag_comp_not_loaded"),
    ],
)
def test_component_states_in_plain_words(
    state: str, reason: str | None, expected: State, advice: str
) -> None:
    check = component_check("source", "telia", "sip_trunk", state, reason)
    assert (check.id, check.state, check.advice_key) == ("component.source.telia", expected, advice)
    assert check.details["reason"] == reason


def test_worst_of_the_checks() -> None:
    def c(state: State) -> Check:
        return Check("x", "clock", state, "t", "a")

    assert worst([]) == State.OK
    assert worst([c(State.OK), c(State.WARN)]) == State.WARN
    assert worst([c(State.WARN), c(State.FAIL), c(State.OK)]) == State.FAIL


async def test_a_family_that_raises_becomes_one_failed_check() -> None:
    from salvesti.plugins.http.diagnostics.report import _guarded

    async def broken() -> list[Check]:
        raise KeyError("registrar")

    (check,) = await _guarded("sources", broken)
    assert (check.id, check.group, check.state) == ("internal.sources", "sources", State.FAIL)
    assert (check.title_key, check.advice_key) == ("diag_internal_title", "diag_internal")
    assert check.details == {"family": "sources", "error": "KeyError: 'registrar'"}
