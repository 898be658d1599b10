"""Learning from calls, end to end: ``salvesti run`` with analysis on, real calls, real speech.

One Salvesti (module-scoped, so the calls and the analysis are shared by the checks below)
takes inbound calls from the sipp carrier, each caller saying a different espeak-ng text, and
extension 101 (baresip) answering with its own text; plus one internal call, which plays no
notice.  Transcripts come from the packaged Whisper tiny.en model (the test extra installs
it).  Salvesti is killed with SIGKILL in the middle of the internal call and started again:
the recording is repaired and the analysis still gets to it.  Then every check reads the result back
through the public surfaces (HTTP API, CLI).
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from harness.audio import (
    RATE,
    _g711_payload,
    _sox,
    _speak,
    envelope,
    locate,
    read_channels,
    segment,
    write_rtp_pcap,
)
from harness.flows import registered_contact
from harness.lab import Lab
from harness.procs import require_tool, wait_for
from harness.salvesti import LINE, Salvesti
from harness.sipp import g711_params

pytestmark = pytest.mark.e2e

CARD_CALLER = "+3725550009"
#: What each caller says.  Phrases only in won calls ("free delivery") and only in lost calls
#: ("too expensive") are what Insights must tell apart.
CALLERS = {
    "won1": ("+3725551001", "Hello. I want free delivery. Yes, free delivery, please. I will buy it today."),
    "won2": ("+3725551002", "Hi. Free delivery is perfect. Free delivery, yes. Please send it."),
    "lost1": ("+3725551003", "Hello. I think it is too expensive. No thank you, goodbye."),
    "lost2": ("+3725551004", "Hi. I think it is too expensive. I will not order anything."),
    "card": (CARD_CALLER, "My card number is 4111 1111 1111 1111."),
}
TALK_MS = 10000
ANALYSIS = """
analysis:
  purpose: "Müügikõnede analüüs (e2e test)"
  transcription: {model: tiny.en, language: en}
  min_calls: 2
  retry_backoff_s: 1
  trackers:
    - {id: delivery, phrases: ["free delivery", "deliver*"]}
    - {id: price, phrases: ["expensive", "price"]}
"""


@dataclass
class Scene:
    salv: Salvesti
    token: str
    calls: dict[str, dict[str, Any]]
    speech: dict[str, Path]
    queue_at_kill: dict[str, Any]

    def api(self, path: str, *, method: str = "GET", body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.salv.http_port}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=20) as res:
            return json.loads(res.read())

    def analysis(self, name: str) -> dict[str, Any]:
        return self.api(f"/api/calls/{self.calls[name]['id']}/analysis")

    def search(self, text: str) -> list[str]:
        found = self.api("/api/calls?" + urllib.parse.urlencode({"q": text, "limit": 100}))["calls"]
        names = {c["id"]: n for n, c in self.calls.items()}
        return sorted(names.get(c["id"], c["id"]) for c in found)


def words(texts: Any) -> str:
    """Lower-case words, punctuation removed, one space apart."""
    return " ".join(re.sub(r"[^\w\s]", " ", " ".join(texts).lower()).split())


def workers_in(directory: Path) -> list[int]:
    """Pids of multiprocessing workers whose working directory is ``directory``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if "spawn_main" in (proc / "cmdline").read_bytes().decode(errors="replace") and Path(
                os.readlink(proc / "cwd")
            ) == Path(directory):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def speech_seconds(samples: np.ndarray, rate: int) -> float:
    """The truth for talk time, independent of the product's VAD: 10 ms frames above 1 % of
    the loudest frame, pauses under 0.5 s bridged, bursts under 0.25 s dropped."""
    frame = rate // 100
    n = len(samples) // frame
    rms = np.sqrt(np.mean(samples[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
    active = rms > max(rms.max() * 0.01, 30.0)
    runs: list[list[int]] = []
    for i in np.flatnonzero(active):
        if runs and i - runs[-1][1] <= 50:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return sum((b - a + 1) for a, b in runs if b - a + 1 >= 25) / 100


def _caller_pcap(directory: Path, name: str, text: str) -> tuple[Path, Path]:
    wav = directory / f"caller_{name}.wav"
    _speak("en-us", 125, text, wav, 0.5)
    ulaw = directory / f"caller_{name}_ulaw.wav"
    _sox([str(wav), "-e", "u-law", str(ulaw)])
    pcap = directory / f"caller_{name}.pcap"
    write_rtp_pcap(_g711_payload(ulaw), 0, pcap)
    return wav, pcap


def _inbound(lab: Lab, salv: Salvesti, carrier: Any, name: str, caller: str, pcap: Path) -> None:
    contact = registered_contact(carrier)
    uac = lab.sipp(
        f"carrier-uac-{name}",
        "provider_uac_invite.xml",
        remote=contact.host_port,
        service=contact.user,
        calls=1,
        port=lab.carrier_uac_port or None,
        timeout_s=TALK_MS / 1000 + 25,
        params={**g711_params("ulaw"), "PCAP": pcap, "TALK_MS": TALK_MS, "LINE": LINE, "CALLER": caller},
    ).start()
    assert uac.wait(TALK_MS / 1000 + 30) == 0, f"the carrier's call {name} did not complete"


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory, audio) -> Any:
    for tool in ("sipp", "baresip", "sox", "espeak-ng", "timeout"):
        require_tool(tool)
    workdir = tmp_path_factory.mktemp("analysis")
    lab = Lab(workdir, audio)
    try:
        speech: dict[str, Path] = {}
        pcaps: dict[str, Path] = {}
        for name, (_caller, text) in CALLERS.items():
            speech[name], pcaps[name] = _caller_pcap(workdir, name, text)
        carrier = lab.provider("answer")
        salv = lab.salvesti(
            trunk=carrier, source_extra={"record_internal": True}, extra_blocks=ANALYSIS, timeout_s=600
        )
        # The phones live through six calls and a restart: their watchdog is the scene's length.
        phone101 = lab.phone("101", salv, audio=audio.phone_a, auto_answer=True, timeout_s=600)
        lab.phone("102", salv, audio=audio.phone_b, auto_answer=True, timeout_s=600)
        calls: dict[str, dict[str, Any]] = {}
        for name, (caller, _text) in CALLERS.items():
            _inbound(lab, salv, carrier, name, caller, pcaps[name])
            calls[name] = salv.wait_call(lambda c, n=caller: c["remote_number"] == n, timeout=20)
        # Kill Salvesti with SIGKILL in the middle of an internal call (no notice is played to
        # anyone): the next start repairs the recording, and the analysis must still get to it.
        # phone 101 answered every inbound call above: wait for *this* call's event, and for
        # Salvesti to list it as answered and still going, before the kill.
        seen = len(phone101.events)
        phone101.dial(f"sip:102@{salv.address}")
        phone101.wait_event("CALL_ESTABLISHED", 15, after=seen)

        def internal_live() -> bool:
            return any(
                c["direction"] == "internal" and c.get("answered_at") and not c.get("ended_at")
                for c in salv.calls()
            )

        wait_for(internal_live, 15, interval=0.2, what="the internal call answered and in progress")
        time.sleep(3.0)  # the call's length: a real call lasts this long (not test logic)
        salv.kill9()
        # its analysis workers die with it (PR_SET_PDEATHSIG), not linger holding a model
        wait_for(lambda: not workers_in(salv.dir), 15, interval=0.2, what="the killed service's workers gone")
        status = salv.cli("analysis", "status", "-c", str(salv.config_path), "--json")
        assert status.returncode == 0, status.stderr.decode()
        at_kill = json.loads(status.stdout)
        at_kill["calls"] = salv.calls()
        salv.start()
        calls["internal"] = salv.wait_call(lambda c: c["direction"] == "internal", timeout=30)

        def all_done() -> bool:
            res = salv.cli("analysis", "status", "-c", str(salv.config_path), "--json")
            counts = json.loads(res.stdout)["counts"]
            return counts["queued"] == 0 and counts["running"] == 0 and counts["done"] + counts["failed"] >= 6

        wait_for(all_done, 240, interval=1.0, what="every call analysed after the restart")
        add = salv.cli(
            "users",
            "add",
            "boss",
            "--role",
            "admin",
            "-c",
            str(salv.config_path),
            input_=b"a-long-passw0rd\n",
        )
        assert add.returncode == 0, add.stderr.decode()
        tok = salv.cli("tokens", "create", "boss", "-c", str(salv.config_path))
        assert tok.returncode == 0, tok.stderr.decode()
        token = tok.stdout.decode().strip().split()[-1]
        yield Scene(salv, token, calls, speech, at_kill)
    finally:
        lab.close()


def test_a_crash_mid_call_and_mid_queue_loses_no_analysis(scene: Scene):
    counts = scene.queue_at_kill["counts"]
    listed = [
        (c["direction"], c["remote_number"], c.get("ended_at"), (c.get("recording") or {}).get("status"))
        for c in scene.queue_at_kill["calls"]
    ]
    live = [c for c in scene.queue_at_kill["calls"] if not c.get("ended_at")]
    assert [c["direction"] for c in live] == ["internal"], f"calls at the kill: {listed}"
    ended = [c for c in scene.queue_at_kill["calls"] if c.get("ended_at") and c.get("recording")]
    assert sum(counts.values()) == len(ended) == 5, (
        f"every ended call and only those had a job at the kill: {counts}; calls: {listed}"
    )
    assert scene.calls["internal"]["recording"]["status"] == "repaired"
    for name in scene.calls:
        assert scene.analysis(name)["status"] == "done", name


def test_talk_seconds_are_within_one_second_of_the_truth_per_party(scene: Scene, audio):
    call = scene.calls["won1"]
    stereo, rate = read_channels(Path(call["recording"]["path"]))
    result = scene.analysis("won1")["talk"]
    duration = len(stereo[:, 0]) / rate
    # The caller speaks from the answer; the agent from when 101 answered, until the hang-up.
    caller, caller_rate = read_channels(scene.speech["won1"])
    outside_truth = speech_seconds(caller[:, 0][: int(duration * caller_rate)], caller_rate)
    agent_src, agent_rate = read_channels(audio.phone_a)
    first = segment(envelope(agent_src[:, 0], agent_rate), 0.0, 3.0)  # the agent's first words
    at = locate(first, envelope(stereo[:, 1], rate))
    assert at.corr >= 0.7, f"the agent's audio is not on the right channel: {at}"
    heard = max(0.0, duration - at.offset_s)
    agent_truth = speech_seconds(agent_src[:, 0][: int(heard * agent_rate)], agent_rate)
    assert abs(result["outside_s"] - outside_truth) <= 1.0, (result, outside_truth)
    assert abs(result["agent_s"] - agent_truth) <= 1.0, (result, agent_truth)
    assert 0 < result["agent_share"] < 1
    assert RATE == rate


def test_the_notice_is_verified_and_not_when_none_was_played(scene: Scene):
    notice = scene.analysis("won1")["notice"]
    assert notice["verified"] is True and notice["score"] >= 0.5 and notice["at_s"] <= 0.5, notice
    internal = scene.analysis("internal")["notice"]
    assert internal["verified"] is False, internal


def test_transcripts_are_attributed_to_the_right_channel(scene: Scene):
    lines = scene.analysis("won1")["transcript"]
    # Whisper tiny.en hears espeak-ng's voices differently from one CPU to the next ("order,
    # number", "may cry about every day"): compare words, punctuation removed, and ask for any
    # of several words only the agent's text has.
    outside = words(x["text"] for x in lines if x["channel"] == "outside")
    agent = words(x["text"] for x in lines if x["channel"] == "agent")
    assert "delivery" in outside and "buy" in outside, lines
    agent_only = {"bakery", "bread", "order", "number", "morning", "office", "harbour", "harbor"}
    assert agent_only & set(agent.split()), lines
    assert "delivery" not in agent and "bakery" not in outside and "bread" not in outside, lines


def test_a_phrase_search_finds_exactly_the_right_calls(scene: Scene):
    assert scene.search('"free delivery"') == ["won1", "won2"]
    assert scene.search('"too expensive"') == ["lost1", "lost2"]
    hit = scene.api("/api/calls?" + urllib.parse.urlencode({"q": "expensive"}))["calls"][0]
    assert "«expensive»" in hit["match"]["snippet"].lower() and hit["match"]["channel"] == "outside"


def test_trackers_are_spotted_per_call_and_channel(scene: Scene):
    won = {(t["id"], t["channel"]) for t in scene.analysis("won2")["trackers"]}
    lost = {(t["id"], t["channel"]) for t in scene.analysis("lost1")["trackers"]}
    assert ("delivery", "outside") in won and ("price", "outside") not in won
    assert ("price", "outside") in lost and ("delivery", "outside") not in lost


def test_insights_rank_a_won_phrase_above_a_lost_phrase(scene: Scene):
    for name in ("won1", "won2", "lost1", "lost2"):
        outcome = "won" if name.startswith("won") else "lost"
        scene.api(f"/api/calls/{scene.calls[name]['id']}", method="PATCH", body={"outcome": outcome})
    body = scene.api("/api/insights")
    assert body["outcomes"]["won"] == 2 and body["outcomes"]["lost"] == 2
    phrases = [p["phrase"] for p in body["phrases"]]
    assert "free delivery" in phrases and "expensive" in phrases, phrases
    won = next(p for p in body["phrases"] if p["phrase"] == "free delivery")
    lost = next(p for p in body["phrases"] if p["phrase"] == "expensive")
    assert (won["won"], won["lost"]) == (2, 0) and (lost["won"], lost["lost"]) == (0, 2)
    assert phrases.index("free delivery") < phrases.index("expensive")
    assert won["lift"] > 0 > lost["lift"]
    trackers = {t["id"]: t for t in body["trackers"]}
    assert trackers["delivery"]["lift"] > trackers["price"]["lift"]


def test_card_digits_never_reach_the_transcript_or_the_index(scene: Scene):
    result = scene.analysis("card")
    text = " ".join(x["text"] for x in result["transcript"])
    digits = "".join(ch for ch in text if ch.isdigit())
    assert "4111" not in digits and "1111" not in digits, text
    assert "card_data" in result["flags"] and result["redactions"] >= 1, result
    assert "[redacted]" in text
    assert scene.search("4111") == [] and scene.search("1111") == []
    flagged = scene.api("/api/calls?flag=card_data")["calls"]
    assert [c["id"] for c in flagged] == [scene.calls["card"]["id"]]


def test_erasure_removes_the_transcript_and_its_index_rows(scene: Scene):
    salv = scene.salv
    before = scene.analysis("card")
    assert before["transcript"], "the card call had a transcript to erase"
    done = salv.cli("subject", "erase", CARD_CALLER, "-c", str(salv.config_path), "--yes")
    assert done.returncode == 0, done.stderr.decode()
    after = scene.analysis("card")
    assert after["transcript"] == [] and after["talk"] is None and after["status"] == "off", after
    assert scene.search("card") == []
    assert scene.calls["won1"]["id"] in [c["id"] for c in scene.api("/api/calls?q=delivery")["calls"]]
