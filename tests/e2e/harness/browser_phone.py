"""A browser phone's stand-in: an aiortc client speaking the /phone page's protocol.

It logs in over HTTP like the page (session cookie, CSRF token), opens /api/phone/ws with
the page's Origin, and makes and answers calls with the page's offer/answer rules.  Its
microphone is a WAV file and what it hears is written to a WAV, so a test can check both
directions.  It runs its own event loop in a thread, so sync tests (and the Lab's
blocking peers) drive it with plain method calls.  Chromium is the real page's test
(``test_e2e_browser_chromium.py``); this client is for the many cases and for load.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import aioice.ice

# The client's candidates stay on loopback (the box offers the page's address: also lo).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaPlayer, MediaRecorder  # noqa: E402
from harness.ports import PORTS  # noqa: E402
from harness.salvesti import Salvesti  # noqa: E402


class PhoneClient:
    """One tab of ``user`` on ``url``; ``mic`` is what it says, ``heard`` what it heard."""

    def __init__(self, url: str, user: str, password: str, *, mic: Path, heard: Path) -> None:
        self.url = url
        self.user = user
        self.password = password
        self.mic = mic
        self.heard = heard
        self.messages: list[dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"phone-{user}", daemon=True)
        self._thread.start()
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pc: RTCPeerConnection | None = None
        self.recorder: MediaRecorder | None = None
        self.status: int | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    def _run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # -- connecting ------------------------------------------------------------------------------
    def open(self, *, csrf: str | None = None, login: bool = True) -> int:
        """Log in and open the socket; returns the HTTP status of the upgrade (101 when open)."""
        return self._run(self._open(csrf, login))

    async def _open(self, csrf: str | None, login: bool) -> int:
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # an IP host
        token = ""
        if login:
            async with self.session.post(
                self.url + "/api/auth/login", json={"username": self.user, "password": self.password}
            ) as resp:
                assert resp.status == 200, f"login failed: {resp.status} {await resp.text()}"
                token = (await resp.json())["csrf_token"]
        try:
            self.ws = await self.session.ws_connect(
                f"{self.url}/api/phone/ws?csrf={token if csrf is None else csrf}",
                headers={"Origin": self.url},
            )
        except aiohttp.WSServerHandshakeError as err:
            self.status = err.status
            return err.status
        self.status = 101
        self.loop.create_task(self._read())
        await self.ws.send_json({"type": "hello"})
        await self._wait(lambda m: m["type"] == "ready", 10)
        return 101

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(msg.data)
                self.messages.append(data)
                if data.get("type") == "sdp" and self.pc is not None:
                    await self.pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="answer"))

    async def _wait(self, pred: Any, within: float) -> dict[str, Any]:
        deadline = time.monotonic() + within
        seen = 0
        while time.monotonic() < deadline:
            for msg in self.messages[seen:]:
                if pred(msg):
                    return msg
            seen = len(self.messages)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no such message within {within} s; got {self.messages}")

    def wait(self, pred: Any, timeout: float = 20) -> dict[str, Any]:
        return self._run(self._wait(pred, timeout), timeout + 5)

    def wait_state(self, state: str, timeout: float = 20) -> dict[str, Any]:
        return self.wait(lambda m: m.get("type") == "state" and m.get("state") == state, timeout)

    def send(self, message: dict[str, Any]) -> None:
        async def go() -> None:
            assert self.ws is not None
            await self.ws.send_json(message)

        self._run(go())

    # -- calls -----------------------------------------------------------------------------------
    async def _offer(self) -> str:
        pc = self.pc = RTCPeerConnection()
        player = MediaPlayer(str(self.mic), loop=True)
        pc.addTrack(player.audio)
        self.recorder = MediaRecorder(str(self.heard))

        @pc.on("track")
        def on_track(track: Any) -> None:
            assert self.recorder is not None
            self.recorder.addTrack(track)
            self._tasks.add(asyncio.ensure_future(self.recorder.start()))

        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    def dead_offer(self) -> str:
        """An offer whose peer connection is closed at once: ICE can never connect to it."""

        async def go() -> str:
            pc = RTCPeerConnection()
            pc.addTrack(MediaPlayer(str(self.mic), loop=True).audio)
            await pc.setLocalDescription(await pc.createOffer())
            sdp = str(pc.localDescription.sdp)
            await pc.close()
            return sdp

        return str(self._run(go()))

    def call(self, number: str) -> None:
        async def go() -> None:
            sdp = await self._offer()
            assert self.ws is not None
            await self.ws.send_json({"type": "call", "number": number, "sdp": sdp})

        self._run(go())

    def answer(self, timeout: float = 20) -> str:
        """Wait for the incoming banner, then answer; returns the call id."""
        incoming = self.wait(lambda m: m.get("type") == "incoming", timeout)

        async def go() -> None:
            sdp = await self._offer()
            assert self.ws is not None
            await self.ws.send_json({"type": "answer", "call": incoming["call"], "sdp": sdp})

        self._run(go())
        return str(incoming["call"])

    def hangup(self) -> None:
        self.send({"type": "hangup"})

    def stop_media(self) -> None:
        async def go() -> None:
            if self.recorder is not None:
                await self.recorder.stop()
                self.recorder = None
            if self.pc is not None:
                await self.pc.close()
                self.pc = None

        self._run(go())

    def close(self) -> None:
        """Close the tab (the socket goes; the box must end any call it had)."""

        async def go() -> None:
            if self.ws is not None:
                await self.ws.close()
            if self.session is not None:
                await self.session.close()

        try:
            self.stop_media()
            self._run(go())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)


# -- a Salvesti with a browser extension, and its agents --------------------------------------
AGENT = "kati"
AGENT_PASSWORD = "kati-long-password-1"
BROWSER = (
    '  - {platform: webrtc, id: browser, extensions: ["103"], rtc_ports: "%d-%d", heartbeat_timeout: 60%s}\n'
)


def browser_lab(
    lab: Any, carrier: Any, *, inbound: tuple[str, ...] = ("103",), extra: str = "", **salvesti: Any
) -> Salvesti:
    """Salvesti with browser extension 103 (web user kati) and user jaan on desk phone 102;
    ``extra`` adds keys to the webrtc source (", ice_timeout: 2")."""
    low, high = PORTS.block(20)
    sources = BROWSER % (low, high, extra)
    salv = lab.salvesti(trunk=carrier, inbound_extensions=inbound, more_sources=sources, **salvesti)
    cfg = str(salv.config_path)
    for name, role, ext in ((AGENT, "agent", "103"), ("jaan", "agent", "102")):
        res = salv.cli(
            "users",
            "add",
            name,
            "--role",
            role,
            "--extension",
            ext,
            "-c",
            cfg,
            input_=AGENT_PASSWORD.encode() + b"\n",
        )
        assert res.returncode == 0, res.stderr.decode()
    return salv


def client(salv: Salvesti, tmp_path: Path, audio: Any, user: str = AGENT) -> PhoneClient:
    return PhoneClient(
        f"http://127.0.0.1:{salv.http_port}",
        user,
        AGENT_PASSWORD,
        mic=audio.phone_a,
        heard=tmp_path / f"heard-{user}.wav",
    )
