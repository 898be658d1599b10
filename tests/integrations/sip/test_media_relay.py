"""The SIP media relay on real UDP sockets on 127.0.0.1: relay, transcoding, DTMF, latching,
garbage, notice playout, recording alignment, transfers and a sink failing mid-call."""

import asyncio
import os
import socket
from datetime import UTC, datetime

import numpy as np
import pytest

from salvesti.core.audio import g711
from salvesti.core.audio.wav import read_wav
from salvesti.core.call import Call, Direction
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.core.protocols.rtp import RtpPacket, TelephoneEvent
from salvesti.core.protocols.sdp import Codec
from salvesti.core.recording import CallRecording
from salvesti.integrations.sip.media import CallMedia, MediaPortsExhausted, MediaRelay
from salvesti.integrations.sip.native import load_core
from salvesti.plugins.sink_local import LocalSink

RELAY_PORTS = range(27000, 28000)  # below the ephemeral range, so no far end gets one
PCMU = (0, Codec("PCMU", 8000))
PCMA = (8, Codec("PCMA", 8000))


class FarEnd:
    """A phone or trunk: an ordinary UDP socket bound on loopback."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.seq = 1000
        self.ts = 5000
        self.ssrc = 0x5EED0000 + self.addr[1]

    @property
    def addr(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def send_raw(self, data: bytes, leg) -> None:
        self.sock.sendto(data, ("127.0.0.1", leg.local_port))

    def packet(self, payload: bytes, pt: int = 0, *, seq=None, ts=None, marker=False) -> bytes:
        return RtpPacket(
            payload_type=pt,
            sequence=self.seq if seq is None else seq,
            timestamp=self.ts if ts is None else ts,
            ssrc=self.ssrc,
            payload=payload,
            marker=marker,
        ).to_bytes()

    def send(self, payload: bytes, leg, pt: int = 0) -> None:
        self.send_raw(self.packet(payload, pt), leg)
        self.seq += 1
        self.ts += len(payload) if pt in (0, 8) else 160

    async def recv(self, count: int, within: float = 3.0) -> list[tuple[RtpPacket, tuple]]:
        """Up to ``count`` packets, waiting at most ``within`` seconds in all.

        Waits with a loop reader rather than ``loop.sock_recvfrom``, which uvloop lacks.
        """
        loop = asyncio.get_running_loop()
        out = []
        deadline = loop.time() + within
        while len(out) < count:
            try:
                data, addr = self.sock.recvfrom(2048)
            except BlockingIOError:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                ready = loop.create_future()
                loop.add_reader(self.sock.fileno(), lambda f=ready: f.done() or f.set_result(None))
                try:
                    await asyncio.wait_for(ready, remaining)
                except TimeoutError:
                    pass
                finally:
                    loop.remove_reader(self.sock.fileno())
                continue
            if addr[1] in RELAY_PORTS:  # other programs on this host may hit our ephemeral port
                out.append((RtpPacket.parse(data), addr))
        return out

    async def quiet(self, seconds: float = 0.15) -> list[RtpPacket]:
        """Whatever arrives within ``seconds`` (to show that nothing does)."""
        return [p for p, _ in await self.recv(1000, seconds)]

    def close(self) -> None:
        self.sock.close()


def ulaw_tone(i: int, n: int = 160) -> bytes:
    t = (np.arange(n) + i * n) / 8000
    return g711.ulaw_encode((np.sin(2 * np.pi * 400 * t) * 6000).astype("<i2").tobytes())


@pytest.fixture(params=["python", "native", "threaded"])
async def relay(request):
    """Every relay test runs on every media path: Python, and the C core for bridged G.711,
    pumped by the event loop or relaying in two worker threads of its own."""
    if request.param == "threaded":
        native = load_core("native", 2)
    else:
        native = load_core(request.param)
    relay = MediaRelay("127.0.0.1", RELAY_PORTS.start, RELAY_PORTS.stop - 1, native=native)
    await relay.start()
    yield relay
    await relay.stop()


@pytest.fixture
def far():
    ends = []

    def make(host="127.0.0.1"):
        end = FarEnd(host)
        ends.append(end)
        return end

    yield make
    for end in ends:
        end.close()


@pytest.fixture
def recording_for(tmp_path):
    hub = Hub({}, config_path=tmp_path / "c.yaml", plugins=PluginManager())
    sink = LocalSink(hub, "disk", tmp_path / "rec")
    failures = []
    hub.bus.subscribe("recording_failed", failures.append)

    def make(**kwargs):
        call = Call(
            id=f"media-{len(failures)}-{os.urandom(3).hex()}",
            source="test",
            direction=Direction.INBOUND,
            line=None,
            remote_number=None,
            started_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
        )
        return CallRecording(hub, call, sink, **kwargs)

    make.failures = failures
    return make


async def pair(relay, far, outside_codec=PCMU, inside_codec=PCMU, *, te=(101, 101), recording=None):
    a, b = far(), far()
    out_leg, in_leg = await relay.allocate(), await relay.allocate()
    out_leg.set_remote(a.addr, outside_codec, te[0])
    in_leg.set_remote(b.addr, inside_codec, te[1])
    media = CallMedia(out_leg, recording)
    media.attach_inside(in_leg)
    media.bridge()
    return a, b, out_leg, in_leg, media


async def test_same_codec_relay_rewrites_into_one_continuous_stream(relay, far):
    a, b, out_leg, in_leg, media = await pair(relay, far)
    for i in range(10):
        a.send(ulaw_tone(i), out_leg)
    got = await b.recv(10)
    assert len(got) == 10
    pkts = [p for p, _ in got]
    assert [p.payload for p in pkts] == [ulaw_tone(i) for i in range(10)]
    assert all(addr == ("127.0.0.1", in_leg.local_port) for _, addr in got)  # symmetric: from our port
    assert len({p.ssrc for p in pkts}) == 1 and pkts[0].ssrc != a.ssrc
    assert [(p.sequence - pkts[0].sequence) & 0xFFFF for p in pkts] == list(range(10))
    assert [(p.timestamp - pkts[0].timestamp) & 0xFFFFFFFF for p in pkts] == [160 * i for i in range(10)]
    assert pkts[0].marker and not any(p.marker for p in pkts[1:])
    await media.close()


async def test_transcoding_pcmu_to_pcma_both_ways(relay, far):
    a, b, out_leg, in_leg, media = await pair(relay, far, PCMU, PCMA)
    for i in range(5):
        a.send(ulaw_tone(i), out_leg)
    got = [p for p, _ in await b.recv(5)]
    assert [p.payload_type for p in got] == [8] * 5
    assert [p.payload for p in got] == [ulaw_tone(i).translate(g711.ULAW_TO_ALAW) for i in range(5)]
    alaw = [ulaw_tone(i).translate(g711.ULAW_TO_ALAW) for i in range(5)]
    for payload in alaw:
        b.send(payload, in_leg, pt=8)
    back = [p for p, _ in await a.recv(5)]
    assert [p.payload_type for p in back] == [0] * 5
    assert [p.payload for p in back] == [p.translate(g711.ALAW_TO_ULAW) for p in alaw]
    await media.close()


async def test_dtmf_passes_through_with_payload_type_remapped(relay, far):
    a, b, out_leg, _in_leg, media = await pair(relay, far, te=(101, 96))
    events = [TelephoneEvent(5, False, 10, 160 * k).to_bytes() for k in (1, 2)]
    events.append(TelephoneEvent(5, True, 10, 480).to_bytes())
    for ev in events:
        a.send_raw(a.packet(ev, 101, ts=a.ts), out_leg)  # one event: one timestamp
        a.seq += 1
    got = [p for p, _ in await b.recv(3)]
    assert [p.payload_type for p in got] == [96, 96, 96]
    assert [p.payload for p in got] == events
    assert TelephoneEvent.parse(got[-1].payload).digit == "5" and TelephoneEvent.parse(got[-1].payload).end
    assert len({p.timestamp for p in got}) == 1
    await media.close()


async def test_dtmf_dropped_when_the_other_leg_has_no_telephone_event(relay, far):
    a, b, out_leg, _in_leg, media = await pair(relay, far, te=(101, None))
    a.send_raw(a.packet(TelephoneEvent(1).to_bytes(), 101), out_leg)
    a.send(ulaw_tone(0), out_leg)
    got = await b.quiet(0.3)
    assert [p.payload_type for p in got] == [0]
    await media.close()


async def test_symmetric_rtp_latches_onto_the_real_source_port(relay, far):
    sdp_end, nat_end, b = far(), far(), far()
    out_leg, in_leg = await relay.allocate(), await relay.allocate()
    out_leg.set_remote(sdp_end.addr, PCMU, 101)  # what the SDP said
    in_leg.set_remote(b.addr, PCMU, 101)
    media = CallMedia(out_leg)
    media.attach_inside(in_leg)
    media.bridge()
    b.send(ulaw_tone(0), in_leg)
    assert len(await sdp_end.recv(1)) == 1  # before anything arrives: to the SDP address
    nat_end.send(ulaw_tone(1), out_leg)  # same IP, other port (a NAT rewrote it)
    assert len(await b.recv(1)) == 1
    assert out_leg.send_addr == nat_end.addr
    b.send(ulaw_tone(2), in_leg)
    assert len(await nat_end.recv(1)) == 1
    assert await sdp_end.quiet() == []
    await media.close()


async def test_garbage_rtcp_and_strangers_are_dropped_without_disturbing_the_stream(relay, far):
    a, b, out_leg, _in_leg, media = await pair(relay, far)
    stranger = far("127.0.0.2")  # another IP on loopback
    for i in range(6):
        a.send(ulaw_tone(i), out_leg)
        a.send_raw(b"\x00garbage!" * (i + 1), out_leg)
        a.send_raw(bytes.fromhex("80c8000601020304") + bytes(20), out_leg)  # RTCP SR (rtcp-mux)
        stranger.send_raw(stranger.packet(b"\x00" * 160), out_leg)
    got = [p for p, _ in await b.recv(6)]
    assert [p.payload for p in got] == [ulaw_tone(i) for i in range(6)]
    assert await b.quiet() == []
    assert (out_leg.stats.invalid, out_leg.stats.rtcp, out_leg.stats.wrong_source) == (6, 6, 6)
    assert out_leg.send_addr == a.addr
    await media.close()


async def test_unknown_payload_types_are_counted_and_dropped(relay, far):
    a, b, out_leg, _in_leg, media = await pair(relay, far)
    a.send(b"\x40", out_leg, pt=13)  # comfort noise: not negotiated
    a.send(ulaw_tone(0), out_leg)
    assert [p.payload_type for p in await b.quiet(0.3)] == [0]
    assert out_leg.stats.unknown_pt == 1
    await media.close()


async def test_rtcp_on_the_odd_port_is_absorbed(relay, far):
    a = far()
    leg = await relay.allocate()
    assert leg.local_port % 2 == 0
    a.sock.sendto(bytes.fromhex("80c9000101020304"), ("127.0.0.1", leg.local_port + 1))
    for _ in range(50):
        if leg.stats.rtcp:
            break
        await asyncio.sleep(0.01)
    assert leg.stats.rtcp == 1
    relay.release(leg)


async def test_port_pairs_are_even_odd_reused_and_exhaustion_is_clear():
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 29993))  # someone else holds the RTCP port of the second pair
    relay = MediaRelay("127.0.0.1", 29990, 29997)
    try:
        legs = [await relay.allocate() for _ in range(3)]
        assert [leg.local_port for leg in legs] == [29990, 29994, 29996]
        with pytest.raises(MediaPortsExhausted, match="no free RTP port pair in 29990-29997"):
            await relay.allocate()
        relay.release(legs[1])
        await asyncio.sleep(0.01)  # uvloop closes the socket on its next iteration
        assert (await relay.allocate()).local_port == 29994
    finally:
        await relay.stop()
        blocker.close()


async def test_notice_is_paced_sent_in_the_outside_codec_and_starts_the_right_channel(
    relay, far, recording_for
):
    rec = recording_for()
    a = far()
    leg = await relay.allocate()
    leg.set_remote(a.addr, PCMA, 101)
    media = CallMedia(leg, rec)
    loop = asyncio.get_running_loop()
    rec.start(loop.time())
    notice = (np.cos(2 * np.pi * 500 * np.arange(4000) / 8000) * 7000).astype("<i2").tobytes()  # 0.5 s
    t0 = loop.time()
    played = await media.play(notice, 8000)
    assert played is True
    got = await a.recv(25)
    elapsed = loop.time() - t0
    pkts = [p for p, _ in got]
    assert len(pkts) == 25
    assert elapsed >= 0.5  # paced: 25 frames of 20 ms take at least 0.5 s to play
    assert all(p.payload_type == 8 and len(p.payload) == 160 for p in pkts)
    assert [(p.sequence - pkts[0].sequence) & 0xFFFF for p in pkts] == list(range(25))
    assert [(p.timestamp - pkts[0].timestamp) & 0xFFFFFFFF for p in pkts] == [160 * i for i in range(25)]
    assert pkts[0].marker
    assert b"".join(p.payload for p in pkts) == g711.alaw_encode(notice)
    await media.close()
    info = await rec.close()
    right = np.frombuffer(read_wav(info.path).frames, "<i2")[1::2]
    offset = int(np.flatnonzero(right)[0])
    assert offset < 800  # the notice is at the recording's very start (within 100 ms)
    assert right[offset : offset + 4000].tobytes() == notice  # all of it, contiguous


async def test_stop_playback_ends_the_notice_early(relay, far):
    a = far()
    leg = await relay.allocate()
    leg.set_remote(a.addr, PCMU, None)
    media = CallMedia(leg)
    task = asyncio.ensure_future(media.play(bytes(16000 * 2), 8000))  # 2 s of silence
    await asyncio.sleep(0.1)
    media.stop_playback()
    assert await asyncio.wait_for(task, 1.0) is False
    await media.close()


async def test_inside_audio_waits_for_the_notice_and_the_bridge(relay, far):
    a, b, out_leg, in_leg, media = await pair(relay, far)
    media.unbridge()
    b.send(ulaw_tone(0), in_leg)
    a.send(ulaw_tone(1), out_leg)
    assert await a.quiet() == [] and await b.quiet() == []  # not bridged: nothing passes
    media.bridge()
    play = asyncio.ensure_future(media.play(bytes(2400), 8000))  # 150 ms notice
    await asyncio.sleep(0.03)
    b.send(ulaw_tone(2), in_leg)  # the agent talks during the notice: not heard
    heard = [p.payload for p in await a.quiet(0.3)]
    assert await play is True
    assert ulaw_tone(2) not in heard and len(heard) == 8
    b.send(ulaw_tone(3), in_leg)
    assert [p.payload for p, _ in await a.recv(1)] == [ulaw_tone(3)]
    await media.close()


async def test_hold_stops_sending_to_the_held_leg(relay, far):
    a, b, out_leg, in_leg, media = await pair(relay, far)
    media.set_hold(in_leg, True)
    a.send(ulaw_tone(0), out_leg)
    assert await b.quiet() == []
    b.send(ulaw_tone(1), in_leg)  # music on hold from the phone still reaches the caller
    assert len(await a.recv(1)) == 1
    media.set_hold(in_leg, False)
    a.send(ulaw_tone(2), out_leg)
    assert [p.payload for p, _ in await b.recv(1)] == [ulaw_tone(2)]
    await media.close()


async def send_paced(end, leg, frames, *, late=None, pt=0):
    """Send ``frames`` (payloads; None = lost) 20 ms apart with their RTP numbering.

    ``late`` maps a frame index to extra seconds of network delay (reordering).
    """
    loop = asyncio.get_running_loop()
    base_seq, base_ts = end.seq, end.ts
    start = loop.time()
    schedule = sorted((i * 0.02 + (late or {}).get(i, 0.0), i) for i in range(len(frames)))
    for due, i in schedule:
        delay = start + due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if frames[i] is not None:
            end.send_raw(end.packet(frames[i], pt, seq=base_seq + i, ts=base_ts + 160 * i), leg)
    end.seq, end.ts = base_seq + len(frames), base_ts + 160 * len(frames)


def numbered(i: int) -> bytes:
    """A frame whose decoded samples all equal a value unique to ``i``."""
    return bytes([0x80 + (i % 100)]) * 160


# Python and the pumped C core only: the placement depends on when each packet is read, and a
# worker thread (the same C capture code as the pumped core) is scheduled by the OS, so on a busy
# CI machine its first read can be late enough to move the anchor.
@pytest.mark.parametrize("relay", ["python", "native"], indirect=True)
async def test_recording_puts_reordered_packets_back_and_lost_ones_become_silence(relay, far, recording_for):
    a, _b, out_leg, _in_leg, media = await pair(relay, far)
    results = []
    # second run: packets 2 and 9 are delayed past their successors (reordered), 6 is lost
    for late, drop in (({}, set()), ({2: 0.03, 9: 0.05}, {6})):
        rec = recording_for()
        media.recording = rec
        media._rec_rate = rec.sample_rate
        frames = [None if i in drop else numbered(i) for i in range(15)]
        a.ssrc += 1  # each run is a new stream, as each call is
        rec.start(asyncio.get_running_loop().time())
        await send_paced(a, out_leg, frames, late=late)
        await asyncio.sleep(0.05)
        info = await rec.close()
        left = np.frombuffer(read_wav(info.path).frames, "<i2")[0::2]
        start = int(np.flatnonzero(left)[0])
        assert start < 800  # the first packet sits at the start (within the contract's 100 ms)
        results.append(left[start : start + 15 * 160])
    in_order, shuffled = results
    expected = in_order.copy()
    expected[6 * 160 : 7 * 160] = 0  # the lost packet is 20 ms of silence, in place
    assert shuffled.tobytes() == expected.tobytes()
    await media.close()


async def test_both_directions_are_recorded_on_their_channels_aligned(relay, far, recording_for):
    rec = recording_for()
    a, b, out_leg, in_leg, media = await pair(relay, far, recording=rec)
    rec.start(asyncio.get_running_loop().time())
    sending = [send_paced(a, out_leg, [numbered(i) for i in range(25)])]
    sending.append(send_paced(b, in_leg, [None] * 10 + [numbered(50 + i) for i in range(15)]))
    await asyncio.gather(*sending)
    await asyncio.sleep(0.05)
    await media.close()
    info = await rec.close()
    data = np.frombuffer(read_wav(info.path).frames, "<i2")
    left, right = data[0::2], data[1::2]
    l0, r0 = int(np.flatnonzero(left)[0]), int(np.flatnonzero(right)[0])
    assert abs((r0 - l0) - 10 * 160) < 800  # the agent started 200 ms after the caller (±100 ms)
    assert np.count_nonzero(left) == 25 * 160 and np.count_nonzero(right) == 15 * 160


async def test_replace_inside_continues_the_outside_stream_and_the_recording(relay, far, recording_for):
    rec = recording_for()
    a, b, out_leg, in_leg, media = await pair(relay, far, recording=rec)
    rec.start(asyncio.get_running_loop().time())
    await send_paced(b, in_leg, [numbered(i) for i in range(5)])
    await asyncio.sleep(0.02)  # the last frame of the first agent lasts 20 ms
    c = far()
    new_leg = await relay.allocate()
    new_leg.set_remote(c.addr, PCMA, 101)
    old = media.replace_inside(new_leg)
    assert old is in_leg and media.inside is new_leg
    relay.release(old)
    await send_paced(c, new_leg, [bytes([0x55 ^ 0x40]) * 160 for _ in range(5)], pt=8)
    await asyncio.sleep(0.05)
    got = [p for p, _ in await a.recv(10)]
    assert len(got) == 10
    assert len({p.ssrc for p in got}) == 1  # the caller sees one stream across the transfer
    assert [(p.sequence - got[0].sequence) & 0xFFFF for p in got] == list(range(10))
    assert all(p.payload_type == 0 for p in got)  # PCMA from the new phone, transcoded
    a.send(ulaw_tone(0), out_leg)
    assert len(await c.recv(1)) == 1 and await b.quiet() == []
    await media.close()
    info = await rec.close()
    assert info.status == "saved"
    right = np.frombuffer(read_wav(info.path).frames, "<i2")[1::2]
    assert np.count_nonzero(right) == 10 * 160  # both agents, one file


async def test_sink_failing_mid_call_keeps_the_media_flowing(relay, far, recording_for):
    rec = recording_for(flush_interval=0.05, reorder_window=0.02)
    a, b, out_leg, _in_leg, media = await pair(relay, far, recording=rec)
    rec.start(asyncio.get_running_loop().time())
    await send_paced(a, out_leg, [ulaw_tone(i) for i in range(5)])
    assert len(await b.recv(5)) == 5
    full = os.open("/dev/full", os.O_WRONLY)  # the disk is full from now on
    os.dup2(full, rec._writer._fd)
    os.close(full)
    await send_paced(a, out_leg, [ulaw_tone(i) for i in range(10)])
    got = await b.recv(10)
    assert len(got) == 10  # the call goes on
    assert rec.failed and rec.call.recording.status == "failed"
    assert len(recording_for.failures) == 1 and "No space left" in recording_for.failures[0].data["error"]
    await media.close()
    info = await rec.close()
    assert info.status == "failed"


async def test_g722_and_opus_legs_transcode_with_their_own_clocks(relay, far, recording_for):
    """G.722 keeps an 8 kHz RTP clock for 16 kHz audio; Opus has a 48 kHz clock; the
    recording gets both at its own 8 kHz."""
    rec = recording_for()
    a, b, out_leg, in_leg, media = await pair(
        relay, far, (9, Codec("G722", 8000)), (111, Codec("opus", 48000, 2)), recording=rec
    )
    rec.start(asyncio.get_running_loop().time())
    g722 = out_leg.encoder.__class__()
    tone = (np.sin(2 * np.pi * 400 * np.arange(320 * 10) / 16000) * 6000).astype("<i2").tobytes()
    frames = [g722.encode(tone[i * 640 : (i + 1) * 640]) for i in range(10)]
    await send_paced(a, out_leg, frames, pt=9)
    got = [p for p, _ in await b.recv(10)]
    assert len(got) == 10 and all(p.payload_type == 111 for p in got)
    assert [(p.timestamp - got[0].timestamp) & 0xFFFFFFFF for p in got] == [960 * i for i in range(10)]
    opus = in_leg.encoder.__class__()
    await send_paced(b, in_leg, [opus.encode(bytes(1920)) for _ in range(5)], pt=111)
    back = [p for p, _ in await a.recv(5)]
    assert len(back) == 5 and all(p.payload_type == 9 and len(p.payload) == 160 for p in back)
    await media.close()
    info = await rec.close()
    left = np.frombuffer(read_wav(info.path).frames, "<i2")[0::2]
    assert np.abs(left).max() > 3000  # the caller's G.722 audio, resampled to 8 kHz


async def test_latch_any_accepts_one_nat_address_then_only_that_one(relay, far):
    behind_nat, stranger, b = far("127.0.0.1"), far("127.0.0.3"), far()
    out_leg, in_leg = await relay.allocate(), await relay.allocate()
    out_leg.set_remote(("127.0.0.2", 4000), PCMU, None, latch_any=True)  # a private SDP address
    in_leg.set_remote(b.addr, PCMU, None)
    media = CallMedia(out_leg)
    media.attach_inside(in_leg)
    media.bridge()
    behind_nat.send(ulaw_tone(0), out_leg)
    assert len(await b.recv(1)) == 1
    assert out_leg.send_addr == behind_nat.addr
    stranger.send_raw(stranger.packet(ulaw_tone(1)), out_leg)
    assert await b.quiet() == []
    assert out_leg.stats.wrong_source == 1
    b.send(ulaw_tone(2), in_leg)
    assert len(await behind_nat.recv(1)) == 1
    await media.close()


async def test_bridged_g711_is_relayed_by_the_native_core_and_handed_back_intact(relay, far, recording_for):
    """The same traffic through either path gives the far ends the same stream: payloads,
    one SSRC, contiguous numbering across hand-overs (hold on and off, a re-INVITE), DTMF
    passed through, and a recording with both channels."""
    rec = recording_for()
    a, b, out_leg, in_leg, media = await pair(relay, far, recording=rec)
    rec.start(asyncio.get_running_loop().time())
    assert media.native is (relay.native is not None)
    assert out_leg.engaged is in_leg.engaged is media.native
    for i in range(5):
        a.send(ulaw_tone(i), out_leg)
        b.send(ulaw_tone(i + 50), in_leg)
    first = [p for p, _ in await b.recv(5)]
    back = [p for p, _ in await a.recv(5)]
    media.set_hold(in_leg, True)  # hands back to Python, then re-engages with sending blocked
    await asyncio.sleep(0)
    for i in range(5, 8):
        a.send(ulaw_tone(i), out_leg)
    assert await b.quiet() == []
    media.set_hold(in_leg, False)
    await asyncio.sleep(0)
    assert media.native is (relay.native is not None)
    a.send(TelephoneEvent(event=5, volume=10, duration=160).to_bytes(), out_leg, pt=101)
    for i in range(8, 12):
        a.send(ulaw_tone(i), out_leg)
    later = [p for p, _ in await b.recv(5)]
    pkts = first + later
    assert [p.payload for p in first] == [ulaw_tone(i) for i in range(5)]
    assert [p.payload_type for p in later] == [101, 0, 0, 0, 0]
    assert [p.payload for p in later[1:]] == [ulaw_tone(i) for i in range(8, 12)]
    assert len({p.ssrc for p in pkts}) == 1
    # the hold's three packets keep their numbers: the far end sees them as lost, not reordered
    assert [(p.sequence - pkts[0].sequence) & 0xFFFF for p in pkts] == [0, 1, 2, 3, 4, 8, 9, 10, 11, 12]
    assert [p.payload for p in back] == [ulaw_tone(i + 50) for i in range(5)]
    stats = out_leg.stats
    assert stats.packets_in == 13 and in_leg.stats.packets_out == 10 and out_leg.stats.packets_out == 5
    await media.close()
    info = await rec.close()
    frames = np.frombuffer(read_wav(info.path).frames, "<i2")
    # sent in bursts, the packets' timestamps run ahead of the clock: the recording holds only
    # the part that fits in its wall-clock length (how much depends on timing), on both channels
    # the first packet each way arrives right after the start, so it is always in the file, whole
    left, right = frames[0::2].tobytes(), frames[1::2].tobytes()
    assert g711.ulaw_decode(ulaw_tone(0)) in left and g711.ulaw_decode(ulaw_tone(50)) in right
    if relay.native is not None:
        assert relay.native.legs == 0  # everything handed back at close


async def test_a_leg_closed_while_in_the_native_core_is_handed_back_first(relay, far):
    a, b, out_leg, in_leg, media = await pair(relay, far)
    a.send(ulaw_tone(0), out_leg)
    assert len(await b.recv(1)) == 1
    relay.release(in_leg)  # e.g. a transfer's old leg going away under the bridge
    assert not in_leg.engaged and not media.native
    a.send(ulaw_tone(1), out_leg)
    assert await b.quiet() == []
    await media.close()
    if relay.native is not None:
        assert relay.native.legs == 0


async def test_worker_threads_relay_while_the_event_loop_is_busy(far):
    """With media workers, bridged calls are spread over the worker cores (a call's two legs
    on one), and a packet crosses the relay while the event loop is blocked: the worker, not
    the loop, relays it."""
    pool = load_core("native", 2)  # raises NativeCoreMissing when the build step was lost
    assert pool is not None
    relay = MediaRelay("127.0.0.1", RELAY_PORTS.start, RELAY_PORTS.stop - 1, native=pool)
    await relay.start()
    calls = [await pair(relay, far) for _ in range(4)]
    assert [core.legs for core in pool.cores] == [4, 4]
    for _, _, out_leg, in_leg, media in calls:
        assert media.native and out_leg.engaged and in_leg.engaged
        assert sum(core.legs for core in pool.cores if core is media._core) == 4
    a, b, out_leg, in_leg, media = calls[0]
    a.send(ulaw_tone(0), out_leg)
    b.sock.setblocking(True)
    b.sock.settimeout(5.0)  # this blocks the loop's thread: only a worker can relay now
    data, addr = b.sock.recvfrom(2048)
    b.sock.setblocking(False)
    assert addr == ("127.0.0.1", in_leg.local_port)
    assert RtpPacket.parse(data).payload == ulaw_tone(0)
    assert sum(core.counters()["ready"] for core in pool.cores) >= 1
    for *_, media in calls:
        await media.close()
    assert pool.legs == 0
    await relay.stop()
    assert not any(core.running for core in pool.cores)


async def test_packet_loss_is_counted_by_sequence_number_on_every_path(relay, far):
    """Gaps in the far end's numbering are loss; a late packet is not; a new SSRC starts a
    new count without losing the old one's; and the count survives hand-overs to the core."""
    a, b, out_leg, in_leg, media = await pair(relay, far)
    for i in range(3):
        a.send(ulaw_tone(i), out_leg)
    a.seq += 2  # two packets never sent: lost
    for i in range(3, 6):
        a.send(ulaw_tone(i), out_leg)
    assert len(await b.recv(6)) == 6
    media.set_hold(in_leg, True)  # a hand-over back to Python and (native) in again
    await asyncio.sleep(0)
    late = a.packet(ulaw_tone(9), seq=a.seq - 4)  # one of the two, late: reordered, not lost
    a.send_raw(late, out_leg)
    a.seq += 1  # one more never sent
    a.send(ulaw_tone(7), out_leg)
    await b.quiet()
    assert out_leg.stats.lost == 2
    a.ssrc += 1  # the far end's stream restarts (a new SSRC)
    a.seq = 40000
    for i in range(4):
        a.send(ulaw_tone(i), out_leg)
    a.seq += 5
    a.send(ulaw_tone(4), out_leg)
    await b.quiet()
    stats = out_leg.stats
    assert stats.lost == 2 + 5 and stats.seq_received == 5
    await media.close()
    assert out_leg.stats.lost == 7


async def test_a_notice_reaches_the_latched_caller_and_continues_into_the_bridge(relay, far, recording_for):
    """During a notice (on the native paths the core holds both legs meanwhile) the notice
    frames follow the caller to the address their packets really come from (NAT), the
    caller is relayed to the phone and recorded, the agent is not heard, and the bridged
    stream afterwards continues the notice's numbering."""
    rec = recording_for()
    a, b, out_leg, in_leg, media = await pair(relay, far, recording=rec)
    rec.start(asyncio.get_running_loop().time())
    nat = far()  # the caller's real source: the negotiated IP, another port
    play = asyncio.ensure_future(media.play(bytes(8000), 8000))  # 0.5 s: 25 frames
    await asyncio.sleep(0)
    assert media.native is (relay.native is not None) and media.playing
    nat.send(ulaw_tone(0), out_leg)  # latches the outside leg to nat's port
    assert [p.payload for p, _ in await b.recv(1)] == [ulaw_tone(0)]  # bridged: the phone hears
    b.send(ulaw_tone(1), in_leg)  # the agent during the notice: never reaches the caller
    assert await play is True
    silence = g711.ulaw_encode(bytes(320))
    at_nat = [p for p, _ in await nat.recv(25, within=0.3)]
    assert len(at_nat) >= 10 and all(p.payload == silence for p in at_nat)
    assert {p.payload for p, _ in await a.recv(25, within=0.1)} <= {silence}  # only before the latch
    b.send(ulaw_tone(2), in_leg)
    [after] = [p for p, _ in await nat.recv(1)]
    assert after.payload == ulaw_tone(2)
    assert (after.sequence - at_nat[-1].sequence) & 0xFFFF == 1 and after.ssrc == at_nat[-1].ssrc
    await media.close()
    info = await rec.close()
    left = np.frombuffer(read_wav(info.path).frames, "<i2")[0::2].tobytes()
    assert g711.ulaw_decode(ulaw_tone(0)) in left  # the caller, recorded during the notice


def _digit_packets(end: FarEnd, digit: str) -> list[bytes]:
    """One key press as a phone sends it: three packets of one event, one timestamp."""
    out = []
    for k, last in ((1, False), (2, False), (3, True)):
        out.append(
            end.packet(
                TelephoneEvent.from_digit(digit, end=last, duration=160 * k).to_bytes(), 101, ts=end.ts
            )
        )
        end.seq += 1
    end.ts += 480
    return out


async def test_pause_code_from_the_phone_is_swallowed_other_digits_pass(relay, far):
    """The inside's keypad: "*7" never reaches the outside party and calls the hook; a plain
    digit passes as it came; a false start ("*" then "5") reaches them late but in order."""
    a, b, _out_leg, in_leg, media = await pair(relay, far)
    pressed: list[str] = []
    media.watch_keypad("*7", lambda: pressed.append("code"))
    for digit in "*7":
        for pkt in _digit_packets(b, digit):
            b.send_raw(pkt, in_leg)
    assert await a.quiet(0.3) == [] and pressed == ["code"]
    for pkt in _digit_packets(b, "5"):
        b.send_raw(pkt, in_leg)
    got = [TelephoneEvent.parse(p.payload) for p, _ in await a.recv(3)]
    assert [e.digit for e in got] == ["5", "5", "5"] and got[-1].end
    for digit in "*5":
        for pkt in _digit_packets(b, digit):
            b.send_raw(pkt, in_leg)
    sent = [p for p, _ in await a.recv(16, within=2.0)]
    events = [TelephoneEvent.parse(p.payload) for p in sent if p.payload_type == 101]
    digits = [e.digit for e in events if e.end]
    assert digits[:1] == ["*"] and digits[-1:] == ["5"] and set(digits) == {"*", "5"}, digits
    assert pressed == ["code"]
    await media.close()
