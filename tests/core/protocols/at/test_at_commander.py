"""ATCommander behaviour that golden logs do not show well: timeouts on a fake clock,
the queue, voice data states, what counts as a final result for which command."""

from __future__ import annotations

import pytest

from salvesti.core.protocols.at import (
    VOICE_END,
    ATCommander,
    CallerId,
    CommandDone,
    CommandTimeout,
    DleEvent,
    HangupDetected,
    ProtocolError,
    Ring,
    Urc,
    VoiceData,
    VoiceStreamEnded,
)


def test_one_command_at_a_time_in_order():
    c = ATCommander()
    h1 = c.send("AT", 1.0, now=0.0)
    h2 = c.send("AT+CSQ", 1.0, now=0.0)
    assert c.data_to_send() == b"AT\r"
    assert c.data_to_send() == b""
    assert c.feed(b"\r\nOK\r\n", now=0.1) == [CommandDone("AT", True, (), "OK")]
    assert h1.done and not h2.done
    assert c.data_to_send() == b"AT+CSQ\r"
    c.feed(b"\r\n+CSQ: 9,99\r\n\r\nOK\r\n", now=0.2)
    assert h2.result == CommandDone("AT+CSQ", True, ("+CSQ: 9,99",), "OK")
    assert not c.busy


def test_timeout_runs_from_write_time_on_a_fake_clock():
    c = ATCommander()
    c.send("AT+COPS=?", 2.0, now=10.0)
    queued = c.send("AT", 1.0, now=10.5)
    c.data_to_send()
    assert c.next_timer() == 12.0
    assert c.handle_timer(11.999) == []
    events = c.handle_timer(12.0)
    assert events == [CommandTimeout("AT+COPS=?", ())]
    # The next command goes out at 12.0 and gets its own full second.
    assert c.data_to_send() == b"AT\r"
    assert c.next_timer() == 13.0
    c.feed(b"\r\nOK\r\n", now=12.5)
    assert queued.result == CommandDone("AT", True, (), "OK")
    assert c.next_timer() is None


def test_timeout_keeps_partial_lines():
    c = ATCommander()
    c.send("AT+CLCC", 1.0, now=0.0)
    c.feed(b'\r\n+CLCC: 1,1,4,0,0,"5551234",129\r\n', now=0.5)
    assert c.handle_timer(1.0) == [CommandTimeout("AT+CLCC", ('+CLCC: 1,1,4,0,0,"5551234",129',))]


def test_echo_is_dropped_even_after_an_urc():
    c = ATCommander()
    c.send("ATA", 5.0, now=0.0)
    events = c.feed(b"\r\nRING\r\nATA\r\r\nOK\r\n", now=0.1)
    assert events == [Ring(), CommandDone("ATA", True, (), "OK")]


def test_call_progress_is_final_only_for_call_commands():
    c = ATCommander()
    c.send("ATA", 5.0, now=0.0)
    assert c.feed(b"\r\nNO CARRIER\r\n", now=0.1) == [CommandDone("ATA", False, (), "NO CARRIER")]
    c.send("AT+CSQ", 5.0, now=0.2)
    assert c.feed(b"\r\nNO CARRIER\r\n\r\nBUSY\r\n", now=0.3) == [
        HangupDetected("NO CARRIER"),
        HangupDetected("BUSY"),
    ]
    assert c.busy


def test_stray_final_result_is_an_error_event_not_an_exception():
    c = ATCommander()
    assert c.feed(b"\r\nOK\r\n", now=0) == [ProtocolError("final result code without a command", b"OK")]


def test_unknown_line_without_command_is_unknown_urc():
    c = ATCommander()
    assert c.feed(b"\r\nHELLO\r\n\r\n+CPIN: READY\r\n", now=0) == [
        Urc("UNKNOWN", ("HELLO",)),
        Urc("+CPIN", ("READY",)),
    ]


def test_cid_block_without_name_flushes_on_timer():
    c = ATCommander(cid_block_timeout=0.5)
    assert c.feed(b"\r\nDATE = 0101\r\nNMBR = 5551234\r\n", now=1.0) == []
    assert c.next_timer() == 1.5
    assert c.handle_timer(1.5) == [CallerId("5551234", None, "valid", (("DATE", "0101"),))]
    assert c.next_timer() is None


def test_cid_block_repeated_key_starts_a_new_block():
    c = ATCommander()
    events = c.feed(b"NMBR = 1\r\nNMBR = 2\r\nNAME = B\r\n", now=0)
    assert events == [CallerId("1"), CallerId("2", "B")]


def test_clip_name_and_clcc_waiting_call():
    c = ATCommander()
    events = c.feed(b'\r\n+CLCC: 2,1,5,0,0,"+3725550000",145,"Jaan"\r\n', now=0)
    assert events[1] == CallerId("+3725550000", "Jaan", "valid")


def _to_voice(c: ATCommander, cmd: str) -> None:
    c.send(cmd, 5.0, now=0.0)
    c.data_to_send()
    assert c.feed(b"\r\nCONNECT\r\n", now=0.1) == [CommandDone(cmd, True, (), "CONNECT")]


def test_receive_voice_then_abort():
    c = ATCommander()
    _to_voice(c, "AT+VRX")
    assert c.voice_mode == "rx"
    queued = c.send("ATH0", 5.0, now=0.2)
    assert c.data_to_send() == b""  # held back: bytes now would be audio
    assert c.feed(b"\x01\x10\x10\x02", now=0.2) == [VoiceData(b"\x01\x10\x02")]
    c.end_voice(now=0.3)
    assert c.data_to_send() == b"\x10!"
    events = c.feed(b"\x03\x10\x03\r\nOK\r\n", now=0.4)
    assert events == [VoiceData(b"\x03"), VoiceStreamEnded(), CommandDone(VOICE_END, True, (), "OK")]
    assert c.voice_mode is None
    assert c.data_to_send() == b"ATH0\r"
    c.feed(b"\r\nOK\r\n", now=0.5)
    assert queued.done


def test_transmit_voice_escapes_and_returns_to_command_mode():
    c = ATCommander()
    _to_voice(c, "AT+VTX")
    c.send_voice(b"\x7f\x10\x80")
    c.end_voice(now=1.0)
    assert c.data_to_send() == b"\x7f\x10\x10\x80\x10\x03"
    assert c.voice_mode is None
    assert c.feed(b"\r\nOK\r\n", now=1.1) == [CommandDone(VOICE_END, True, (), "OK")]


def test_full_duplex_waits_for_modem_etx():
    c = ATCommander()
    _to_voice(c, "AT+VTR")
    assert c.voice_mode == "duplex"
    c.send_voice(b"\x01")
    c.end_voice(now=1.0)
    assert c.data_to_send() == b"\x01\x10\x03"
    assert c.voice_mode == "duplex"
    assert c.feed(b"\x10d\x10\x03\r\nOK\r\n", now=1.1) == [
        DleEvent("d", "dial_tone"),
        HangupDetected("DLE d"),
        VoiceStreamEnded(),
        CommandDone(VOICE_END, True, (), "OK"),
    ]


def test_voice_end_times_out_if_modem_says_nothing():
    c = ATCommander(voice_end_timeout=2.0)
    _to_voice(c, "AT+VTX")
    c.end_voice(now=1.0)
    assert c.handle_timer(3.0) == [CommandTimeout(VOICE_END)]


def test_send_voice_outside_voice_state_is_a_programming_error():
    with pytest.raises(RuntimeError):
        ATCommander().send_voice(b"x")


def test_dle_split_across_reads_in_command_mode():
    c = ATCommander()
    assert c.feed(b"\x10", now=0) == []
    assert c.feed(b"s", now=0) == [DleEvent("s", "silence"), HangupDetected("DLE s")]


def test_garbage_gives_errors_and_the_stream_recovers():
    c = ATCommander(max_line=32)
    c.send("AT", 1.0, now=0)
    events = c.feed(b"\x00\xff\r\n" + b"A" * 40 + b"\r\n\xc3(\r\nOK\r\n", now=0.1)
    assert events[0] == ProtocolError("control bytes in line", b"\x00\xff")
    assert events[1].reason == "overlong line"
    assert events[-1] == CommandDone("AT", True, ("\xc3(",), "OK")
