"""The setup app: a small aiohttp application of its own, never the hub.

Routes: ``/`` (the page), ``/static/*`` (its ES modules and CSS), ``GET /api/setup/info``
(presets, bundled notices), ``POST /api/setup/code`` (the one-time code → a session token),
then with ``X-Setup-Token``: ``GET /api/setup/state``, ``POST /api/setup/step/{step}``,
``POST /api/setup/probe``, ``POST /api/setup/notice/upload``, ``GET /api/setup/notice/audio``
and ``POST /api/setup/finish``.  Once setup has finished, or whenever a config file or an
admin user exists, every route but the static files answers 410 Gone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from salvesti.core.plugins import PluginManager
from salvesti.plugins.http.accounts import AccountError
from salvesti.setup import routes
from salvesti.setup.admin import create_admin, database_file
from salvesti.setup.checks import words
from salvesti.setup.guard import SetupCode, refusal_async
from salvesti.setup.notices import bundled
from salvesti.setup.presets import load_presets
from salvesti.setup.render import EMPLOYEES_FILE, render
from salvesti.setup.state import WizardState
from salvesti.setup.writer import WriteError, notice_target, write_atomic_set

STATIC = Path(__file__).with_name("static")
OPEN_PATHS = {"/api/setup/info", "/api/setup/code"}


@dataclass
class SetupContext:
    """One wizard run: where the config goes, the code, and whether it is over."""

    config_path: Path
    http_listen: str
    plugins: PluginManager
    code: SetupCode = field(default_factory=SetupCode)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    result: dict[str, Any] | None = None

    @property
    def db_file(self) -> Path:
        return database_file(self.config_path.parent.resolve())


CTX: web.AppKey[SetupContext] = web.AppKey("setup_ctx", SetupContext)


_GONE_PAGE = """<!doctype html>
<html lang="et"><head><meta charset="utf-8"><title>Salvesti</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/setup.css"></head>
<body><main class="main"><h1>Seadistus on valmis</h1>
<p>Seadistus on juba tehtud; seda ei saa uuesti avada.
Käivita Salvesti: <code>salvesti run -c config.yaml</code></p>
<h1 lang="en">Setup is done</h1>
<p lang="en">Setup has been done already; it cannot be reopened.
Start Salvesti: <code>salvesti run -c config.yaml</code></p>
</main></body></html>
"""


def _gone(request: web.Request, reason: str) -> web.Response:
    """410 Gone: the page in words for a browser, JSON for the page's own calls."""
    if request.path == "/":
        return web.Response(text=_GONE_PAGE, content_type="text/html", status=410)
    return web.json_response({"ok": False, "gone": True, "reason": reason}, status=410)


@web.middleware
async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
    """410 once finished (or a config/admin exists); the session token on every API call."""
    ctx = request.app[CTX]
    if request.path.startswith("/static/"):
        return await handler(request)
    if ctx.finished.is_set():
        return _gone(request, "setup has finished; start Salvesti with salvesti run")
    reason = await refusal_async(ctx.config_path, ctx.db_file)
    if reason is not None:
        return _gone(request, reason)
    if request.path.startswith("/api/") and request.path not in OPEN_PATHS:
        if not ctx.code.allows(request.headers.get("X-Setup-Token")):
            return web.json_response({"ok": False, "reason": "enter the setup code first"}, status=401)
    response = await handler(request)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response = await handler(request)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "setup.html")


async def info(_request: web.Request) -> web.Response:
    return web.json_response(
        {
            "presets": [p.to_json() for p in load_presets()],
            "notices": list(bundled()),  # in LANGUAGES order: Estonian first, preselected
            "employees_file": EMPLOYEES_FILE,
        }
    )


async def code(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    data = await routes.body(request)
    if ctx.code.exhausted:
        return routes.refused(
            {
                "code": words(
                    "Liiga palju valesid katseid; käivita seadistus uuesti (uus kood ilmub terminali).",
                    "Too many wrong tries; restart setup (a new code appears in the terminal).",
                )
            }
        )
    token = ctx.code.redeem(routes.text(data, "code"))
    if token is None:
        return routes.refused(
            {
                "code": words(
                    "Vale kood. Kood on terminalis, kus käivitati salvesti setup.",
                    "Wrong code. The code is in the terminal where salvesti setup was started.",
                )
            }
        )
    return routes.ok(token=token)


async def state_view(request: web.Request) -> web.Response:
    return web.json_response(routes.summary(request.app[routes.STATE]))


async def step(request: web.Request) -> web.Response:
    handler = routes.STEP_ROUTES.get(request.match_info["step"])
    if handler is None:
        raise web.HTTPNotFound()
    return await handler(request)


async def finish(request: web.Request) -> web.Response:
    """Write the files (all or none), create the admin, and end the setup app."""
    ctx, state = request.app[CTX], request.app[routes.STATE]
    missing = state.missing()
    if missing:
        return routes.refused(
            {
                "finish": words(
                    f"Täitmata sammud: {', '.join(missing)}.", f"Steps not done yet: {', '.join(missing)}."
                )
            },
            missing=missing,
        )
    assert state.notice is not None and state.owner_name and state.owner_password
    folder = ctx.config_path.parent.resolve()
    if state.notice.kind == "upload" and state.notice.upload is not None:
        source, wanted = state.notice.upload, "notice.wav"
    else:
        source, wanted = bundled()[state.notice.language], f"{state.notice.language}.wav"
    rendered = render(
        state,
        http_listen=ctx.http_listen,
        notice_file=notice_target(folder, source, wanted),
        now=datetime.now(),
    )
    try:
        written = await asyncio.to_thread(write_atomic_set, ctx.config_path, rendered, source, ctx.plugins)
    except WriteError as err:
        return routes.refused(
            {
                "finish": words(
                    "Seadeid ei salvestatud: " + "; ".join(err.problems),
                    "Nothing was saved: " + "; ".join(err.problems),
                )
            }
        )
    admin_error = None
    try:
        await create_admin(ctx.config_path, ctx.plugins, state.owner_name, state.owner_password)
    except (AccountError, Exception) as err:  # the files stand; say how to add the admin by hand
        admin_error = (
            f"{err}; add the admin with: salvesti users add {state.owner_name} --role admin "
            f"-c {ctx.config_path}"
        )
    ctx.result = {
        "ok": True,
        "config": str(ctx.config_path),
        "files": [str(p) for p in written],
        "start": f"salvesti run -c {ctx.config_path}",
        "admin": state.owner_name,
        "admin_error": admin_error,
    }
    state.discard()
    ctx.finished.set()
    return web.json_response(ctx.result)


def make_app(ctx: SetupContext) -> web.Application:
    app = web.Application(middlewares=[headers, guard], client_max_size=9 * 1024 * 1024)
    app[CTX] = ctx
    app[routes.STATE] = WizardState()
    app.router.add_get("/", page)
    app.router.add_static("/static/", STATIC, show_index=False)
    app.router.add_get("/api/setup/info", info)
    app.router.add_post("/api/setup/code", code)
    app.router.add_get("/api/setup/state", state_view)
    app.router.add_post("/api/setup/step/{step}", step)
    app.router.add_post("/api/setup/probe", routes.probe)
    app.router.add_post("/api/setup/notice/upload", routes.notice_upload)
    app.router.add_get("/api/setup/notice/audio", routes.notice_audio)
    app.router.add_post("/api/setup/finish", finish)

    async def forget(app: web.Application) -> None:
        app[routes.STATE].discard()

    app.on_cleanup.append(forget)
    return app
