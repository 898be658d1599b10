"""A per-test bench of peers: everything started through a Lab is stopped when the test ends.

Tests (and the benchmark) build their topology through a Lab so teardown and log
collection are never forgotten: ``lab.close()`` stops every peer in reverse order, and
``lab.logs()`` gathers the tail of each peer's output for a failing test's report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.audio import AudioSet, outside_ulaw
from harness.baresip import Baresip
from harness.certs import Issued
from harness.dnsmasq import Dnsmasq, Zone
from harness.ports import PORTS
from harness.procs import wait_for
from harness.salvesti import EXTENSIONS, Salvesti
from harness.sipp import Sipp, g711_params
from harness.sipwire import options_status
from harness.tls_carrier import TlsCarrier

PROVIDER_SCENARIOS = {
    "answer": "provider_uas_answer.xml",
    "busy": "provider_uas_busy.xml",
    "noanswer": "provider_uas_noanswer.xml",
    "prack": "provider_uas_prack.xml",
    "unavailable": "registrar_unavailable.xml",
    "invite_unavailable": "provider_uas_unavailable.xml",
}


class Lab:
    def __init__(self, workdir: Path, audio: AudioSet) -> None:
        self.dir = Path(workdir)
        self.audio = audio
        self._items: list[Any] = []
        self.carrier_uac_port = 0
        self.carrier_ua_port = 0

    # -- peers ---------------------------------------------------------------------------
    def provider(
        self,
        kind: str = "answer",
        *,
        law: str = "ulaw",
        ring_ms: int = 300,
        name: str = "provider",
        timeout_s: float = 60,
    ) -> Sipp:
        """The carrier on loopback: registrar for Salvesti plus a callee that answers/busies/rings."""
        pcap = self.audio.outside_ulaw_pcap if law == "ulaw" else self.audio.outside_alaw_pcap
        sipp = Sipp(
            name,
            PROVIDER_SCENARIOS[kind],
            self.dir,
            timeout_s=timeout_s,
            params={**g711_params(law), "PCAP": pcap, "RING_MS": ring_ms},
        )
        self._items.append(sipp)
        sipp.start()
        wait_for(
            lambda: options_status(sipp.port, timeout=0.3) == 200,
            8,
            interval=0.1,
            what=f"sipp carrier answering OPTIONS on {sipp.address}",
        )
        return sipp

    def tls_carrier(self, cert: Issued, *, name: str = "tls-carrier", expires: int = 300) -> TlsCarrier:
        """A carrier over TLS with SRTP media (``tls_carrier.py``), serving ``cert``."""
        carrier = TlsCarrier(name, cert, audio_ulaw=outside_ulaw(self.audio), expires=expires)
        self._items.append(carrier)
        return carrier.start()

    def salvesti(self, *, trunk: Sipp | None = None, start: bool = True, **kwargs: Any) -> Salvesti:
        """Salvesti with ``trunk`` as its registrar.

        On loopback the carrier and the phones share 127.0.0.1, and Salvesti tells them apart
        by port (the registrar's exact address); the carrier's other senders (the sipp that
        places inbound calls, a baresip "outside caller") get ports reserved here and listed
        in ``trunk.inbound_from``, as a real carrier's proxies would be.
        """
        self.carrier_uac_port = PORTS.port()
        self.carrier_ua_port = PORTS.block(3)[0]
        inbound_from = [f"127.0.0.1:{self.carrier_uac_port}", f"127.0.0.1:{self.carrier_ua_port}"]
        salv = Salvesti(
            self.dir,
            notice=self.audio.notice,
            trunk_port=trunk.port if trunk else None,
            inbound_from=inbound_from,
            **kwargs,
        )
        self._items.append(salv)
        return salv.start() if start else salv

    def phone(
        self,
        ext: str,
        salv: Salvesti,
        *,
        audio: Path | None = None,
        auto_answer: bool = False,
        register: bool = True,
        password: str | None = None,
        timeout_s: float = 60,
    ) -> Baresip:
        """A baresip office phone for extension ``ext`` registered at Salvesti (waits for REGISTER_OK).

        ``timeout_s`` is the phone's watchdog: after it the phone is stopped, so a scene that
        keeps its phones through several calls must give them the scene's length, not 60 s.
        """
        pw = password if password is not None else EXTENSIONS[ext][0]
        aor = Baresip.account(ext, salv.address, password=pw, register=register, auto_answer=auto_answer)
        phone = Baresip(
            f"phone{ext}", self.dir, aor=aor, audio=audio or self.audio.phone_a, timeout_s=timeout_s
        )
        self._items.append(phone)
        phone.start()
        if register:
            phone.wait_registered(8)
        return phone

    def baresip(
        self, name: str, *, aor: str, audio: Path, sip_port: int | None = None, tls_cert: Path | None = None
    ) -> Baresip:
        b = Baresip(name, self.dir, aor=aor, audio=audio, sip_port=sip_port, tls_certificate=tls_cert)
        self._items.append(b)
        return b.start()

    def dns(self, zone: Zone) -> Dnsmasq:
        """A DNS server on loopback holding ``zone`` (for ``nameservers:``)."""
        server = Dnsmasq(self.dir, zone)
        self._items.append(server)
        return server.start()

    def sipp(self, name: str, scenario: str, **kwargs: Any) -> Sipp:
        s = Sipp(name, scenario, self.dir, **kwargs)
        self._items.append(s)
        return s

    # -- teardown ------------------------------------------------------------------------
    def close(self) -> None:
        for item in reversed(self._items):
            try:
                item.stop()
            except Exception as exc:  # teardown must reach every peer
                print(f"lab: stopping {item!r} failed: {exc}")

    def logs(self) -> str:
        out = []
        for item in self._items:
            name = getattr(item, "name", repr(item))
            try:
                out.append(f"===== {type(item).__name__} {name} =====\n{item.logs()}")
            except Exception as exc:
                out.append(f"===== {name}: logs unavailable: {exc}")
        return "\n".join(out)
