"""``accounts:``: one carrier account per number, each registering with its own digest,
inbound calls mapped to the account whose Contact they reach, outbound calls leaving with
the extension's line's account (sipp as the carrier, baresip as the office phone)."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
from sip_lab import EXT, PORTS, Lab

ACC1, ACC2 = "+3726000001", "+3726000002"
REALM = "carrier.test"  # not the registrar's host name: the digest must use the challenge's realm


def accounts_source(carrier_port: int, *, password2: str = "pw-acc-2") -> dict:
    registrar = f"127.0.0.1:{carrier_port}"
    return {
        "accounts": [
            {"line": ACC1, "registrar": registrar, "username": "3726000001", "password": "pw-acc-1"},
            {"line": ACC2, "registrar": registrar, "username": "3726000002", "password": password2},
        ],
        "extensions": [
            {"user": "101", "password": EXT["101"], "line": ACC1},
            {"user": "102", "password": EXT["102"], "line": ACC2},
        ],
        "inbound": {ACC1: ["101"], ACC2: ["101"]},
    }


def users_file(lab: Lab) -> Path:
    """The carrier's accounts (sipp injection file): what each account's digest is checked against."""
    path = lab.tmp / "carrier_users.csv"
    path.write_text("SEQUENTIAL\n3726000001;pw-acc-1;\n3726000002;pw-acc-2;\n")
    return path


def carrier(lab: Lab, name: str, scenario: str, port: int, *args: str, **params: object):
    users = users_file(lab).name  # sipp finds -infindex files only by the name given to -inf, relative
    return lab.sipp(
        name,
        scenario,
        *args,
        *("-inf", users, "-infindex", users, "0"),
        port=port,
        USERS=users,
        REALM=REALM,
        **params,
    )


async def register_both(lab: Lab, carrier_port: int, **source: object) -> None:
    registrar = carrier(lab, "registrar", "carrier_registrar.xml", carrier_port, "-m", "2", EXPIRES=300)
    await registrar.start()
    await lab.start_hub({**accounts_source(carrier_port), **source})
    await lab.wait_for(lambda: registrar.proc.returncode is not None, 15, "both REGISTERs answered")


def registration(lab: Lab, line: str) -> str:
    client = lab.source.carrier.for_line(line)
    assert client is not None
    return client.status


async def register_phone(lab: Lab, user: str = "101") -> None:
    phone = lab.baresip(user)
    await phone.start()
    await lab.wait_for(lambda: lab.source.registrar.registered(time.monotonic()).get(user), 10, "phone")


async def test_each_account_registers_with_its_own_digest_and_gets_its_own_calls(lab: Lab) -> None:
    carrier_port = PORTS.port()
    await register_both(lab, carrier_port)
    assert registration(lab, ACC1) == "registered" and registration(lab, ACC2) == "registered", lab.logs()
    msgs = lab.messages("registrar")
    for user in ("3726000001", "3726000002"):
        assert f"To: <sip:{user}@127.0.0.1>" in msgs
        assert f'username="{user}"' in msgs and f'realm="{REALM}"' in msgs
    assert msgs.count("SIP/2.0 200 OK") == 2 and "403 Forbidden" not in msgs
    seen = {(s.get("account"), s.get("registration")) for s in lab.status}
    assert {(ACC1, "registered"), (ACC2, "registered")} <= seen, lab.status
    assert [a["status"] for a in lab.source.status()["accounts"]] == ["registered", "registered"]

    await register_phone(lab)
    for n, (user, line) in enumerate((("3726000002", ACC2), ("3726000001", ACC1)), 1):
        call = lab.sipp(
            f"inbound{n}",
            "outside_uac.xml",
            f"127.0.0.1:{lab.sip_port}",
            "-m",
            "1",
            port=carrier_port,
            RURI_USER=user,  # the Contact that account registered: the only thing telling them apart
            TO_USER="office",
            FROM="<sip:+3725551234@[local_ip]>",
            EXTRA="",
            UA="carrier",
            TALK_MS=3000,
        )
        await call.start()
        assert await call.wait(25) == 0, lab.logs()
        await lab.wait_for(lambda n=n: len(lab.ended) >= n, 10, "call_ended")
        ended = lab.ended[-1]
        assert ended["line"] == line and ended["direction"] == "inbound", ended
        assert ended["remote_number"] == "+3725551234" and ended["extension"] == "101"
        assert ended["disposition"] == "answered" and ended["notice"]["complete"]
        assert ended["meta"]["route"] == {"via": "account", "username": user}
        assert ended["recording"]["status"] == "saved"


async def test_outbound_call_uses_the_lines_account(lab: Lab) -> None:
    carrier_port = PORTS.port()
    await register_both(lab, carrier_port)
    callee = carrier(lab, "callee", "carrier_uas_verify.xml", carrier_port, "-m", "1", FINAL="answer")
    await callee.start()
    phone = lab.sipp(
        "phone",
        "phone_call.xml",
        f"127.0.0.1:{lab.sip_port}",
        *("-s", "5551234", "-au", "102", "-ap", EXT["102"], "-m", "1"),
        EXT="102",
        TALK_MS=2000,
    )
    await phone.start()
    assert await phone.wait(25) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["line"] == ACC2 and call["extension"] == "102" and call["disposition"] == "answered", (
        lab.logs()
    )
    assert call["meta"]["route"] == {"via": "account", "username": "3726000002"}
    invites = [m for m in lab.messages("callee").split("-----") if "INVITE sip:5551234@" in m]
    assert len(invites) == 2, lab.messages("callee")
    assert all("From: <sip:3726000002@127.0.0.1>" in m for m in invites), invites[0]
    assert 'username="3726000002"' in invites[1] and f'realm="{REALM}"' in invites[1]
    assert "403 Forbidden" not in lab.messages("callee"), "the account's digest was checked and accepted"


async def test_wrong_credentials_fail_one_account_only(lab: Lab) -> None:
    carrier_port = PORTS.port()
    registrar = carrier(lab, "registrar", "carrier_registrar.xml", carrier_port, "-m", "2", EXPIRES=300)
    await registrar.start()
    await lab.start_hub(
        accounts_source(carrier_port, password2="not-the-password"),
        config={"http": {"listen": "127.0.0.1:0"}},
    )
    await lab.wait_for(lambda: registration(lab, ACC2) == "failed", 15, "account 2 refused")
    await lab.wait_for(lambda: registration(lab, ACC1) == "registered", 15, "account 1 registered")
    assert lab.source.carrier.for_line(ACC2).reason == "403 Forbidden"
    failed = [s for s in lab.status if s.get("account") == ACC2 and s.get("registration") == "failed"]
    assert len(failed) == 1 and failed[0]["reason"] == "403 Forbidden", lab.status
    # /api/health (public) says which registration is failing by its place in the config
    port = lab.hub.integrations["http"].bound_port
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/api/health") as r:
        body = await r.json()
    assert body["registrations"] == {"telia": {"accounts[0]": "registered", "accounts[1]": "failed"}}


async def test_each_account_refreshes_before_a_short_expiry(lab: Lab) -> None:
    """The carrier grants 2 s: each account REGISTERs again (with its digest) before it runs out."""
    carrier_port = PORTS.port()
    registrar = carrier(
        lab, "registrar", "carrier_registrar.xml", carrier_port, "-m", "2", EXPIRES=2, MID="refresh"
    )
    await registrar.start()
    await lab.start_hub(accounts_source(carrier_port))
    await lab.wait_for(lambda: registrar.proc.returncode is not None, 15, "both accounts refreshed")
    assert registrar.proc.returncode == 0, lab.logs()
    counts = [a["registrations"] for a in lab.source.status()["accounts"]]
    assert counts == [2, 2], lab.logs()
    assert "403 Forbidden" not in lab.messages("registrar")
