"""Salvesti under test: writes a CONTRACT-shaped config, runs ``salvesti run``, reads calls back.

The config is what a user would write (sip_trunk source, trunk registrar = a sipp carrier
on loopback, extensions with passwords, a local sink, an audio_file notice, max_age
retention), on ports from the shared allocator.  Readiness = the SIP port answers OPTIONS
with 200, as a phone's keep-alive would see it.  ``calls()`` uses the public CLI
(``salvesti calls list --json``), never the database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.ports import PORTS
from harness.procs import ManagedProcess, run, wait_for
from harness.sipwire import options_status

REPO = Path(__file__).resolve().parents[3]
LINE = "+3726000000"
TRUNK_USER = "3726000000"
TRUNK_PASSWORD = "trunk-secret-1"
EXTENSIONS = {"101": ("pw-101-Mari", "Mari Maasikas"), "102": ("pw-102-Jaan", "Jaan Tamm")}
SOURCE_ID = "telia"

Call = dict[str, Any]


def salvesti_argv() -> list[str]:
    """The installed console script, or the source tree when the package is not installed."""
    script = REPO / ".venv" / "bin" / "salvesti"
    if script.exists():
        return [str(script)]
    python = REPO / ".venv" / "bin" / "python"
    return [str(python), "-c", "import sys; from salvesti.cli import main; sys.exit(main())"]


def salvesti_env() -> dict[str, str]:
    src = str(REPO / "src")
    return {"PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""), "PYTHONUNBUFFERED": "1"}


def _flow(value: dict[str, Any]) -> str:
    """A YAML flow mapping (JSON is valid YAML) for extra source keys."""
    return json.dumps(value, ensure_ascii=False)


class Salvesti:
    """One ``salvesti run`` with its own folder, config, ports, logs and data."""

    def __init__(
        self,
        workdir: Path,
        *,
        notice: Path,
        trunk_port: int | None = None,
        source_extra: dict[str, Any] | None = None,
        inbound_extensions: tuple[str, ...] = ("101",),
        name: str = "salvesti",
        timeout_s: float = 120,
        extensions: dict[str, tuple[str, str]] | None = None,
        rtp_ports: int = 40,
        wrapper: list[str] | None = None,
        inbound_from: list[str] | None = None,
        core_extra: dict[str, Any] | None = None,
        extra_blocks: str = "",
        more_sources: str = "",
        store: str = "{platform: sqlite}",
        sinks: str = "  - {platform: local, id: disk, path: recordings, format: wav}\n",
        retention: str | None = None,
    ) -> None:
        self.name = name
        self.dir = Path(workdir) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sip_port = PORTS.port()
        self.rtp_min, self.rtp_max = PORTS.block(rtp_ports)
        self.http_port = PORTS.port()
        self.trunk_port = trunk_port
        self.notice = Path(notice)
        # E2E_SOURCE_EXTRA='{"digest_algorithms": ["MD5"]}' adds keys to every test's source
        # block: a switch for isolating one product problem while reproducing the others.
        self.source_extra = {**json.loads(os.environ.get("E2E_SOURCE_EXTRA") or "{}"), **(source_extra or {})}
        self.inbound_extensions = inbound_extensions
        self.timeout_s = timeout_s
        self.extensions = extensions if extensions is not None else EXTENSIONS
        self.wrapper = wrapper or []
        self.inbound_from = inbound_from or []
        # Extra keys for the `salvesti:` block (e.g. event_loop: uvloop).
        self.core_extra = core_extra or {}
        # Top-level YAML appended to the config (e.g. an analysis: block).
        self.extra_blocks = extra_blocks
        # Source items (YAML, indented as list items of sources:) after the sip_trunk one.
        self.more_sources = more_sources
        # The store (a YAML flow mapping), the sink items and the retention items (YAML, as list
        # items): a node of several on one PostgreSQL and one object store replaces them.
        self.store = store
        self.sinks = sinks
        self.retention = retention if retention is not None else (
            f'  - {{platform: max_age, id: sales, match: {{line: "{LINE}"}}, days: 60}}\n'
            "  - {platform: max_age, id: default, days: 10}\n"
        )
        self.config_path = self.dir / "config.yaml"
        self.proc: ManagedProcess | None = None
        self.generation = 0
        self.write_config()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    @property
    def recordings_dir(self) -> Path:
        return self.dir / "recordings"

    def write_config(self) -> None:
        ext_lines = "\n".join(
            f'      - {{user: "{user}", password: "{pw}", name: "{name}"}}'
            for user, (pw, name) in self.extensions.items()
        )
        trunk = ""
        if self.trunk_port is not None:
            trunk = (
                f'    trunk: {{registrar: "127.0.0.1:{self.trunk_port}", username: "{TRUNK_USER}", '
                f"password: !secret trunk_password, inbound_from: {json.dumps(self.inbound_from)}}}\n"
                f'    lines: ["{LINE}"]\n'
                f'    inbound: {{"{LINE}": {json.dumps(list(self.inbound_extensions))}}}\n'
            )
        extra = "".join(
            f"    {k}: {_flow(v) if isinstance(v, dict | list) else json.dumps(v)}\n"
            for k, v in self.source_extra.items()
        )
        self.config_path.write_text(
            "salvesti:\n"
            "  data_dir: ./data\n"
            "  timezone: Europe/Tallinn\n"
            '  purpose: "Klienditeeninduse kvaliteedi parandamine (e2e test)"\n'
            + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in self.core_extra.items())
            + "http:\n"
            f"  listen: 127.0.0.1:{self.http_port}\n"
            f"store: {self.store}\n"
            "sources:\n"
            "  - platform: sip_trunk\n"
            f"    id: {SOURCE_ID}\n"
            f"    listen: 127.0.0.1:{self.sip_port}\n"
            f"    rtp_ports: {self.rtp_min}-{self.rtp_max}\n"
            f"{trunk}"
            "    extensions:\n"
            f"{ext_lines}\n"
            f"{extra}"
            f"{self.more_sources}"
            "sinks:\n"
            f"{self.sinks}"
            "notices:\n"
            f"  - {{platform: audio_file, id: et, file: {json.dumps(str(self.notice))}, "
            "directions: [inbound, outbound]}\n"
            "retention:\n"
            f"{self.retention}" + self.extra_blocks
        )
        (self.dir / "secrets.yaml").write_text(f'trunk_password: "{TRUNK_PASSWORD}"\n')

    # -- process -------------------------------------------------------------------------
    def start(self, *, wait: bool = True, ready_timeout: float = 20) -> Salvesti:
        self.generation += 1
        self.proc = ManagedProcess(
            f"{self.name}-{self.generation}",
            [*self.wrapper, *salvesti_argv(), "run", "-c", str(self.config_path)],
            log_dir=self.dir,
            timeout_s=self.timeout_s,
            cwd=self.dir,
            env=salvesti_env(),
        ).start()
        if wait:
            self.wait_ready(ready_timeout)
        return self

    def wait_ready(self, timeout: float = 20) -> None:
        def ready() -> bool:
            if self.proc is not None and not self.proc.running():
                raise RuntimeError(
                    f"salvesti exited with {self.proc.proc.returncode} before it was ready:\n{self.logs()}"
                )
            return options_status(self.sip_port, timeout=0.5) == 200

        wait_for(ready, timeout, interval=0.2, what=f"salvesti OPTIONS 200 on {self.address}")

    @property
    def pid(self) -> int:
        """Pid of the Salvesti process itself (not the ``timeout`` wrapper)."""
        assert self.proc is not None
        return self.proc.child_pid

    def terminate(self, timeout: float = 20) -> int:
        """SIGTERM to Salvesti itself, then its exit code (``timeout`` passes it on)."""
        assert self.proc is not None
        self.proc.signal_child(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill_child()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(grace=15)

    def logs(self) -> str:
        return self.proc.logs(tail=6000) if self.proc else ""

    # -- CLI -----------------------------------------------------------------------------
    def cli(
        self, *args: str, timeout: float = 30, input_: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        return run(
            [*salvesti_argv(), *args], timeout=timeout, cwd=self.dir, input_=input_, env=salvesti_env()
        )

    def calls(self, *filters: str) -> list[Call]:
        """``salvesti calls list -c cfg --json``: stdout must be exactly a JSON array."""
        res = self.cli("calls", "list", "-c", str(self.config_path), "--json", *filters)
        assert res.returncode == 0, (
            f"calls list exited {res.returncode}: {res.stderr.decode(errors='replace')[-2000:]}"
        )
        data = json.loads(res.stdout)
        assert isinstance(data, list), f"calls list --json printed {type(data).__name__}, not a list"
        return data

    def wait_call(self, pred: Callable[[Call], bool] | None = None, timeout: float = 15) -> Call:
        """The newest call that has ended, has a finalised recording (if any) and matches ``pred``."""

        def done() -> Call | None:
            for call in self.calls():
                rec = call.get("recording")
                finalised = rec is None or rec.get("sha256")
                if call.get("ended_at") and finalised and (pred is None or pred(call)):
                    return call
            return None

        return wait_for(done, timeout, interval=0.5, what="an ended call with a finalised recording")


def calls_json(config: Path, *filters: str) -> list[Call]:
    """``salvesti calls list -c CONFIG --json`` for any config file (used by the bench too)."""
    res = run(
        [*salvesti_argv(), "calls", "list", "-c", str(config), "--json", *filters],
        timeout=30,
        cwd=Path(config).parent,
        env=salvesti_env(),
    )
    assert res.returncode == 0, res.stderr.decode(errors="replace")[-2000:]
    return json.loads(res.stdout)


#: The name the test plan uses for the runner.
SalvestiProcess = Salvesti
