"""RFC 4028 session timers on the wire: a sipp carrier's inbound call with short timers
(``session_min_se: 2``), a baresip phone answering it.  Each test waits for an outcome
(the call's end), bounded; which outcome it was is what the test checks."""

from __future__ import annotations

from sip_lab import Lab
from test_sip_inbound import carrier_calls, register_phone, setup_inbound


async def run_call(lab: Lab, limit: float = 30, **params: object) -> dict[str, object]:
    carrier_port = await setup_inbound(lab, session_min_se=2)
    await register_phone(lab)
    carrier = carrier_calls(
        lab, carrier_port, scenario="provider_uac_timer.xml", CALLER="+3725551234", **params
    )
    await carrier.start()
    assert await carrier.wait(limit) == 0, lab.logs()  # sipp checks every Session-Expires it got
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    return lab.ended[0]


async def test_the_carriers_refreshes_keep_the_call_up(lab: Lab) -> None:
    """SE 6 s: without its refreshes (every 1.5 s) the session would expire 4 s after the
    answer, before the carrier's BYE at 5.5 s; with them the carrier hangs up itself."""
    call = await run_call(
        lab, SE=6, REFRESHER="uac", MID="timer_theirs", REFRESH_MS=1500, FINAL="uac_hangup", TALK_MS=2500
    )
    assert call["meta"]["sip"]["hangup_cause"] == "bye", call["meta"]
    assert call["meta"]["sip"]["hangup_side"] == "outside"
    assert call["extension"] == "101"


async def test_a_session_without_refreshes_ends_with_bye_on_both_legs(lab: Lab) -> None:
    """SE 3 s, refresher the carrier, which never refreshes: Salvesti ends the call (BYE to
    the carrier, which answers 200 and exits cleanly; BYE to the phone) well before the
    carrier's own 15 s hang-up."""
    call = await run_call(lab, SE=3, REFRESHER="uac", FINAL="uac_byed", TALK_MS=15000)
    assert call["meta"]["sip"]["hangup_cause"] == "session expired", call["meta"]
    assert call["meta"]["sip"]["hangup_side"] == "outside"
    assert "BYE sip:carrier@" in lab.messages("carrier")
    assert not lab.source.b2bua.calls


async def test_we_refresh_when_the_carrier_makes_us_the_refresher(lab: Lab) -> None:
    """refresher=uas: Salvesti sends the UPDATE at half of the 4 s interval (the carrier's
    Allow has UPDATE); sipp checks its Session-Expires and answers, then hangs up."""
    call = await run_call(lab, SE=4, REFRESHER="uas", MID="timer_ours", FINAL="uac_hangup", TALK_MS=1500)
    assert call["meta"]["sip"]["hangup_cause"] == "bye", call["meta"]
    assert "UPDATE sip:carrier@" in lab.messages("carrier")
