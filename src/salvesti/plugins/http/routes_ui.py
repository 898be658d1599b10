"""The web UI (plain ES modules and CSS from package data, no build step), health and OpenAPI."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from salvesti import __version__
from salvesti.plugins.http.openapi import openapi_document
from salvesti.plugins.http.server import server_of

STATIC = Path(__file__).parent / "static"


async def index(request: web.Request) -> web.Response:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    html = html.replace('<html lang="et">', f'<html lang="{server_of(request).language}">', 1)
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-cache"})


async def health(request: web.Request) -> web.Response:
    """Public liveness: no personal data, just whether the components are loaded and, for
    sources that register somewhere (carrier accounts, gateways), each registration's state
    keyed by its place in the config (``accounts[1]: failed``), not by number."""
    hub = server_of(request).hub
    entries = list(getattr(hub, "entries", []))
    states = [str(e.state) for e in entries]
    failing = sum(1 for s in states if s not in ("loaded",))
    body = {"status": "ok", "version": __version__, "components": len(states), "not_loaded": failing}
    registrations = {}
    for entry in entries:
        report = getattr(entry.component, "registrations", None) if str(entry.state) == "loaded" else None
        if callable(report):
            registrations[entry.id] = report()
    if registrations:
        body["registrations"] = registrations
    return web.json_response(body)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC, follow_symlinks=False, append_version=False)
