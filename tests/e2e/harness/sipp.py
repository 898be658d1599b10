"""sipp runners: the carrier (registrar + callee, or caller) and scripted phones.

Scenarios live in ``tests/e2e/scenarios/*.xml`` with ``@NAME@`` placeholders (pcap path,
payload type, ring time, ...) that are filled in per run, because sipp cannot take those
from the command line inside ``<exec>`` actions.  Every run logs each SIP message
(``-trace_msg``), so a test can assert what a peer did or did not receive.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.ports import PORTS
from harness.procs import ManagedProcess, require_tool

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

_SEPARATOR = re.compile(r"^-{20,}.*$", re.M)


class Sipp:
    """One sipp process on its own SIP and media ports (127.0.0.1 only)."""

    def __init__(
        self,
        name: str,
        scenario: str,
        workdir: Path,
        *,
        remote: str | None = None,
        service: str | None = None,
        params: dict[str, object] | None = None,
        calls: int | None = None,
        timeout_s: float = 40,
        extra: list[str] | None = None,
        port: int | None = None,
    ) -> None:
        require_tool("sipp")
        self.name = name
        self.dir = Path(workdir) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or PORTS.port()
        self.media_port = PORTS.block(4)[0]
        text = (SCENARIOS / scenario).read_text()
        for key, value in (params or {}).items():
            text = text.replace(f"@{key}@", str(value))
        left = re.findall(r"@[A-Z_]+@", text)
        assert not left, f"{scenario}: placeholders not filled: {sorted(set(left))}"
        self.scenario = self.dir / scenario
        self.scenario.write_text(text)
        self.message_file = self.dir / "messages.log"
        argv = ["sipp", "-sf", str(self.scenario)]
        if remote:
            argv.append(remote)
        argv += [
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-mi",
            "127.0.0.1",
            "-mp",
            str(self.media_port),
            "-nostdin",
            "-trace_msg",
            "-message_file",
            str(self.message_file),
            "-trace_err",
            "-error_file",
            str(self.dir / "errors.log"),
            "-timeout",
            f"{int(timeout_s)}s",
            "-max_recv_loops",
            "1000",
        ]
        if service is not None:
            argv += ["-s", service]
        if calls is not None:
            argv += ["-m", str(calls)]
        argv += extra or []
        self.proc = ManagedProcess(
            f"sipp-{name}", argv, log_dir=self.dir, timeout_s=timeout_s + 10, cwd=self.dir
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Sipp:
        self.proc.start()
        return self

    def wait(self, timeout: float) -> int:
        """Exit code: 0 when every call succeeded, 1 when some failed (sipp's convention)."""
        return self.proc.wait(timeout)

    def stop(self) -> None:
        self.proc.stop(grace=2.0)

    def logs(self) -> str:
        out = [self.proc.logs()]
        for extra in (self.dir / "errors.log",):
            if extra.exists():
                out.append(f"--- {extra.name} ---\n{extra.read_text(errors='replace')[-3000:]}")
        return "\n".join(out)

    # -- what went over the wire ------------------------------------------------------------
    def messages(self, direction: str = "received") -> list[str]:
        """SIP messages sipp logged as 'received' or 'sent', oldest first."""
        if not self.message_file.exists():
            return []
        text = self.message_file.read_text(errors="replace")
        out = []
        for block in _SEPARATOR.split(text):
            head, _, body = block.strip().partition("\n")
            if f"message {direction}" in head:
                out.append(body.strip())
        return out

    def requests(self, method: str) -> list[str]:
        return [m for m in self.messages("received") if m.startswith(method + " ")]

    def registered_contact(self) -> str | None:
        """The Contact URI of the last REGISTER this sipp (as registrar) received."""
        for msg in reversed(self.requests("REGISTER")):
            m = re.search(r"^(?:Contact|m)\s*:\s*(.*)$", msg, re.M | re.I)
            if m:
                uri = re.search(r"<([^>]+)>", m.group(1))
                return (uri.group(1) if uri else m.group(1).split(";")[0]).strip()
        return None


def g711_params(law: str = "ulaw") -> dict[str, object]:
    """Payload type and codec name for scenario SDP."""
    return {"PT": 0, "CODEC": "PCMU"} if law == "ulaw" else {"PT": 8, "CODEC": "PCMA"}
