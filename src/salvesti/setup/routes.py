"""The wizard's steps as JSON endpoints: each checks its fields and stores them in the state.

Answers are ``{"ok": true, ...}`` or ``{"ok": false, "problems": {field: {"et", "en"}}}``
(HTTP 422), so the page can put each reason next to its field in the reader's language.
Nothing here writes a file except an uploaded notice into the state's private folder.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from salvesti.setup import checks
from salvesti.setup.checks import Problems, words
from salvesti.setup.notices import LANGUAGES, MAX_UPLOAD_BYTES, bundled, upload_problem
from salvesti.setup.presets import preset
from salvesti.setup.probe import probe_register
from salvesti.setup.state import Account, Carrier, Extension, Notice, WizardState, strong_password

STATE: web.AppKey[WizardState] = web.AppKey("setup_state", WizardState)


def ok(**extra: Any) -> web.Response:
    return web.json_response({"ok": True, **extra})


def refused(problems: Problems, **extra: Any) -> web.Response:
    return web.json_response({"ok": False, "problems": problems, **extra}, status=422)


async def body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="expected a JSON object") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return data


def text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def text_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if isinstance(value, str):
        value = value.replace(",", "\n").splitlines()
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


async def owner(request: web.Request) -> web.Response:
    data = await body(request)
    name, password = text(data, "name"), str(data.get("password") or "")
    problems = checks.owner_problems(name, password, str(data.get("again") or ""))
    if problems:
        return refused(problems)
    state = request.app[STATE]
    state.owner_name, state.owner_password = name, password
    return ok()


async def purpose(request: web.Request) -> web.Response:
    value = text(await body(request), "purpose")
    problems = checks.purpose_problems(value)
    if problems:
        return refused(problems)
    request.app[STATE].purpose = value
    return ok()


async def probe(request: web.Request) -> web.Response:
    """Try one set of credentials now (the page's "Try" button)."""
    data = await body(request)
    problems = checks.account_problems(data)
    if problems:
        return refused(problems)
    result = await probe_register(text(data, "registrar"), text(data, "username"), str(data["password"]))
    return web.json_response({"ok": True, "probe": result.to_json()})


def _parse_carrier(data: dict[str, Any]) -> tuple[Carrier | None, Problems]:
    chosen = preset(text(data, "preset"))
    if chosen is None:
        return None, {"preset": words("Vali üks võimalus.", "Choose one of the options.")}
    if chosen.shape == "none":
        return Carrier("none"), {}
    if chosen.shape == "trunk":
        problems = checks.account_problems(data)
        numbers = text_list(data, "numbers")
        problems |= checks.numbers_problems(numbers)
        if problems:
            return None, problems
        trunk = Account(text(data, "registrar"), text(data, "username"), str(data["password"]))
        return Carrier("trunk", trunk, [checks.normal_number(n) for n in numbers]), {}
    items = data.get("accounts") if isinstance(data.get("accounts"), list) else []
    problems = {} if items else {"accounts": words("Lisa vähemalt üks number.", "Add at least one number.")}
    accounts: list[Account] = []
    for index, item in enumerate(x for x in items if isinstance(x, dict)):
        prefix = f"accounts.{index}."
        found = checks.account_problems(item, prefix)
        line_problem = checks.number_problem(text(item, "line"))
        if line_problem is not None:
            found[prefix + "line"] = line_problem
        problems |= found
        if not found:
            accounts.append(
                Account(
                    text(item, "registrar"),
                    text(item, "username"),
                    str(item["password"]),
                    checks.normal_number(text(item, "line")),
                )
            )
    lines = [a.line for a in accounts]
    if not problems and len(set(lines)) != len(lines):
        problems["accounts"] = words("Sama number on kaks korda.", "A number is listed twice.")
    return (None, problems) if problems else (Carrier("accounts", accounts=accounts), {})


async def carrier(request: web.Request) -> web.Response:
    """Check the fields, try every account with a real REGISTER, keep it when all answered 200
    (or when the owner said to save anyway: the carrier may be down, or not yet connected)."""
    data = await body(request)
    parsed, problems = _parse_carrier(data)
    if parsed is None:
        return refused(problems)
    accounts = [parsed.trunk] if parsed.trunk else parsed.accounts
    found = await asyncio.gather(*(probe_register(a.registrar, a.username, a.password) for a in accounts))
    results = [{"line": acc.line, **result.to_json()} for acc, result in zip(accounts, found, strict=True)]
    if any(not r["ok"] for r in results) and not data.get("save_anyway"):
        return refused(
            {
                "probe": words(
                    "Operaatori kontrollimine ebaõnnestus (vt allpool).",
                    "Trying the carrier failed (see below).",
                )
            },
            probes=results,
        )
    state = request.app[STATE]
    state.carrier = parsed
    lines = set(parsed.lines)
    state.inbound = {k: v for k, v in state.inbound.items() if k in lines}
    if set(state.inbound) != lines:  # a new number: who rings for it is still to be chosen
        state.numbers_done = False
    state.retention = {k: v for k, v in state.retention.items() if k in lines or k == "default"}
    return ok(probes=results, lines=parsed.lines)


async def numbers(request: web.Request) -> web.Response:
    """Extensions (passwords generated here, shown once) and which of them ring per number."""
    state = request.app[STATE]
    if state.carrier is None:
        return refused(
            {"extensions": words("Täida enne operaatori samm.", "Complete the carrier step first.")}
        )
    data = await body(request)
    items = [x for x in data.get("extensions") or [] if isinstance(x, dict)]
    problems: Problems = {}
    if not items:
        problems["extensions"] = words("Lisa vähemalt üks telefon (sisenumber).", "Add at least one phone.")
    old = {e.user: e for e in state.extensions}
    exts: list[Extension] = []
    for index, item in enumerate(items):
        user, name = text(item, "user"), text(item, "name")
        kept = old.get(user)
        password = kept.password if kept else strong_password()
        found = checks.extension_problems(index, user, name, password)
        if user in {e.user for e in exts}:
            found[f"extensions.{index}.user"] = words(
                f"Sisenumber {user} on kaks korda.", f"Extension {user} is listed twice."
            )
        problems |= found
        exts.append(Extension(user, name or user, password))
    inbound_in = data.get("inbound") if isinstance(data.get("inbound"), dict) else {}
    users = {e.user for e in exts}
    inbound: dict[str, list[str]] = {}
    for line in state.carrier.lines:
        ringing = [u for u in inbound_in.get(line) or [] if isinstance(u, str)]
        unknown = [u for u in ringing if u not in users]
        if unknown:
            problems[f"inbound.{line}"] = words(
                f"Tundmatu sisenumber: {', '.join(unknown)}.", f"Unknown extension: {', '.join(unknown)}."
            )
        elif not ringing:
            problems[f"inbound.{line}"] = words(
                f"Vali, kes vastab numbrile {line}.", f"Choose who answers {line}."
            )
        inbound[line] = ringing
    if problems:
        return refused(problems)
    state.extensions, state.inbound, state.numbers_done = exts, inbound, True
    new = {e.user: e.password for e in exts if e.user not in old}
    return ok(passwords=new)


async def notice_upload(request: web.Request) -> web.Response:
    """The WAV as the request body (the page sends the file as it is)."""
    state = request.app[STATE]
    data = await request.content.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return refused({"upload": words("Fail on suurem kui 8 MB.", "The file is larger than 8 MB.")})
    path = state.temp_dir() / "upload.wav"
    await asyncio.to_thread(path.write_bytes, data)
    problem = await asyncio.to_thread(upload_problem, path)  # decoding is not the loop's job
    if problem is not None:
        path.unlink(missing_ok=True)
        return refused({"upload": problem})
    state.notice = Notice("upload", upload=path)
    return ok()


async def notice(request: web.Request) -> web.Response:
    data = await body(request)
    state = request.app[STATE]
    if text(data, "kind") == "upload":
        if state.notice is None or state.notice.upload is None:
            return refused({"upload": words("Laadi fail enne üles.", "Upload a file first.")})
        return ok()
    lang = text(data, "language")
    if lang not in bundled():
        return refused(
            {
                "language": words(
                    "Selles keeles teadet pole kaasas; laadi oma fail üles.",
                    "No notice in this language ships; upload your own.",
                )
            }
        )
    state.notice = Notice("bundled", lang)
    return ok()


async def notice_audio(request: web.Request) -> web.StreamResponse:
    """A notice to play in the page: ``?lang=et`` (shipped) or ``?upload=1``."""
    state = request.app[STATE]
    if request.query.get("upload"):
        path = state.notice.upload if state.notice else None
    else:
        path = bundled().get(request.query.get("lang", ""))
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"})


async def retention(request: web.Request) -> web.Response:
    data = await body(request)
    state = request.app[STATE]
    days_in = data.get("days") if isinstance(data.get("days"), dict) else {}
    lines = state.carrier.lines if state.carrier else []
    problems: Problems = {}
    days: dict[str, int] = {}
    for key in [*lines, "default"]:
        value = days_in.get(key)
        problem = checks.days_problem(value)
        if problem is not None:
            problems[f"days.{key}"] = problem
        else:
            days[key] = int(value)
    if problems:
        return refused(problems)
    state.retention = days
    return ok()


async def employees(request: web.Request) -> web.Response:
    names = text_list(await body(request), "employees")
    problems = checks.employee_problems(names)
    if problems:
        return refused(problems)
    request.app[STATE].employees = names
    return ok()


def summary(state: WizardState) -> dict[str, Any]:
    """What the page may show of the state (no passwords)."""
    c = state.carrier
    return {
        "done": state.done(),
        "owner": state.owner_name,
        "purpose": state.purpose,
        "carrier": None if c is None else {"shape": c.shape, "lines": c.lines},
        "extensions": [{"user": e.user, "name": e.name} for e in state.extensions],
        "inbound": state.inbound,
        "notice": None
        if state.notice is None
        else {"kind": state.notice.kind, "language": state.notice.language},
        "retention": state.retention,
        "employees": state.employees,
        "languages": {lang: lang in bundled() for lang in LANGUAGES},
    }


STEP_ROUTES = {
    "owner": owner,
    "purpose": purpose,
    "carrier": carrier,
    "numbers": numbers,
    "notice": notice,
    "retention": retention,
    "employees": employees,
}
