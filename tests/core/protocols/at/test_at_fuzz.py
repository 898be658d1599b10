"""Hypothesis fuzz of the framer and commander: any bytes, any split, never an exception,
and the events do not depend on how the bytes were cut into reads."""

from __future__ import annotations

from at_golden import join_voice
from hypothesis import given, settings
from hypothesis import strategies as st

from salvesti.core.protocols.at import ATCommander, LineFramer, ProtocolError, split_fields

TOKENS = [
    b"\r\n",
    b"\r",
    b"\n",
    b"OK",
    b"ERROR",
    b"RING",
    b"CONNECT",
    b"NO CARRIER",
    b"+CLIP: ",
    b"+CLCC: 1,1,6,0,0,",
    b'"+3725551234"',
    b",",
    b"NMBR = ",
    b"NAME = ",
    b"VOICE CALL: END: 000010",
    b"\x10",
    b"\x10\x03",
    b"\x10b",
    b"\x00",
    b"\xff",
    b"AT",
]
streams = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=8)), max_size=60).map(b"".join)


def _run(data: bytes, cuts: list[int], cmds: list[str]) -> list:
    c = ATCommander(max_line=64)
    for cmd in cmds:
        c.send(cmd, 1.0, now=0.0)
    events = []
    pos = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        if cut > pos:
            events += c.feed(data[pos:cut], now=0.5)
            pos = cut
    events += c.handle_timer(10.0)
    return join_voice(events)


@settings(max_examples=300, deadline=None)
@given(
    streams,
    st.lists(st.integers(min_value=0, max_value=500), max_size=20),
    st.lists(st.sampled_from(["AT", "ATA", "AT+VRX", "AT+VTX", "AT+CLCC"]), max_size=3),
)
def test_never_raises_and_split_does_not_matter(data, cuts, cmds):
    whole = _run(data, [], cmds)
    assert _run(data, cuts, cmds) == whole
    assert _run(data, list(range(len(data))), cmds) == whole


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_framer_lines_are_bounded(data):
    f = LineFramer(max_line=100)
    f.push(data)
    for _ in range(len(data) + 1):
        item = f.pop()
        if item is None:
            break
        assert isinstance(item, ProtocolError | bytes)
        assert len(item if isinstance(item, bytes) else item.data) <= 100
    assert len(f.pending) <= 100


@given(st.text(max_size=80))
def test_split_fields_never_raises(text):
    fields = split_fields(text)
    assert len(fields) >= 1
