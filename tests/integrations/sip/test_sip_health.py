"""Recording health with real calls: sipp carrier and baresip phones on loopback.

A healthy call has no problem; a caller whose RTP never comes, and a caller who sends only
silence, each end with a ``recording_unhealthy`` event naming the channel."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sip_lab import SCENARIOS, Lab, write_wav
from test_sip_inbound import carrier_calls, register_phone, setup_inbound

from salvesti.plugins.http.metrics import HubMetrics

PCAP = '<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>'


def watch_unhealthy(lab: Lab) -> list[dict]:
    seen: list[dict] = []
    assert lab.hub is not None
    lab.hub.bus.subscribe("recording_unhealthy", lambda e: seen.append(e.data))
    return seen


def metric(metrics: HubMetrics, name: str, **labels: str) -> float:
    """One sample of the hub's metrics, read back through Prometheus' own text parser."""
    for family in text_string_to_metric_families(metrics.render().decode()):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    raise AssertionError(f"no sample {name}{labels}")


def reasons(call: dict) -> list[tuple[str, str | None]]:
    return [(p["reason"], p["channel"]) for p in call["health"]]


async def inbound(lab: Lab, scenario: str, talk_ms: int) -> tuple[dict, list[dict], HubMetrics]:
    """One carrier call answered by phone 101: the ended call, the unhealthy events, the metrics."""
    carrier_port = await setup_inbound(lab)
    unhealthy = watch_unhealthy(lab)
    metrics = HubMetrics(lab.hub)
    metrics.subscribe(lab.hub.bus)  # type: ignore[union-attr]
    await register_phone(lab)
    carrier = carrier_calls(lab, carrier_port, scenario=scenario, CALLER="+3725551234", TALK_MS=talk_ms)
    await carrier.start()
    active = lambda: metric(metrics, "salvesti_active_calls", source="telia") == 1  # noqa: E731
    await lab.wait_for(active, 10, "the call counted as active")
    assert await carrier.wait(30) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    await lab.hub.bus.drain()  # type: ignore[union-attr]
    return lab.ended[0], unhealthy, metrics


async def test_a_healthy_inbound_call_has_no_problem(lab: Lab) -> None:
    call, unhealthy, metrics = await inbound(lab, "provider_uac.xml", 6000)
    assert call["disposition"] == "answered" and call["duration_s"] >= 5, lab.logs()
    assert call["health"] == [] and unhealthy == [], call["health"]
    rtp = call["meta"]["rtp"]  # counted by sequence number on whichever media path relayed it
    assert rtp["outside"]["received"] > 100 and rtp["heard"]["received"] > 100, rtp
    assert rtp["outside"]["lost"] == rtp["heard"]["lost"] == 0, rtp
    ended = {"source": "telia", "direction": "inbound", "disposition": "answered"}
    assert metric(metrics, "salvesti_calls_total", **ended) == 1
    assert metric(metrics, "salvesti_active_calls", source="telia") == 0


async def test_a_carrier_that_sends_no_rtp_leaves_the_outside_channel_empty(lab: Lab, tmp_path: Path) -> None:
    text = (SCENARIOS / "provider_uac.xml").read_text()
    assert PCAP in text
    mute = tmp_path / "provider_uac_mute.xml"
    mute.write_text(text.replace(PCAP, ""))
    call, unhealthy, metrics = await inbound(lab, str(mute), 6000)  # absolute: not from SCENARIOS
    assert reasons(call) == [("channel_no_audio", "outside")], call["health"]
    assert metric(metrics, "salvesti_recordings_unhealthy_total", reason="channel_no_audio") == 1
    assert [c["id"] for c in unhealthy] == [call["id"]]
    stored = await lab.hub.store.get_call(call["id"])  # type: ignore[union-attr]
    assert [str(p.reason) for p in stored.health] == ["channel_no_audio"]


async def test_a_silent_internal_caller_leaves_the_outside_channel_silent(lab: Lab, tmp_path: Path) -> None:
    await lab.start_hub({"record_internal": True})
    unhealthy = watch_unhealthy(lab)
    await register_phone(lab, "102")
    silence = write_wav(tmp_path / "silence.wav", bytes(2 * 8000 * 20))
    caller = lab.baresip("101", dial="102", seconds=8, speech=silence)
    await caller.start()
    await lab.wait_for(lambda: lab.ended, 25, "call_ended")
    call = lab.ended[0]
    assert call["direction"] == "internal" and call["duration_s"] >= 5, lab.logs()
    assert reasons(call) == [("channel_silent", "outside")], call["health"]
    await lab.hub.bus.drain()  # type: ignore[union-attr]
    assert [c["id"] for c in unhealthy] == [call["id"]]
