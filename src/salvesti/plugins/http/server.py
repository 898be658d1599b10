"""The HTTP server component: one aiohttp application serving the API, the event stream and the UI.

Set up and unloaded by the hub like any integration.  Cross-cutting rules live in the two
middlewares here so no route can forget them: every response carries the security headers, and
every ``/api`` request except the public ones is authenticated (session cookie or bearer
token) and, when it changes state with a cookie, must carry the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
from aiohttp import web

from salvesti.core.call import Call
from salvesti.plugins.http import auth
from salvesti.plugins.http.accounts_db import AccountsDb, open_accounts
from salvesti.plugins.http.db_sqlite import SqliteAccounts
from salvesti.plugins.http.employee_register import EmployeeRegister
from salvesti.plugins.http.events_relay import CALL_EVENTS, PgEventRelay, relay_for
from salvesti.plugins.http.metrics import HubMetrics
from salvesti.plugins.http.register_db import RegisterDb
from salvesti.plugins.http.schema import split_listen
from salvesti.plugins.http.tls_http import TlsFront
from salvesti.plugins.http.waveform import PeaksCache

_LOGGER = logging.getLogger(__name__)

SESSION_COOKIE = "salvesti_session"
CSRF_HEADER = "X-CSRF-Token"
SERVER_KEY: web.AppKey[HttpServer] = web.AppKey("salvesti_http", None)  # type: ignore[arg-type]
#: Where the authenticated user is kept on a request (RequestKey where aiohttp has it).
PRINCIPAL: Any = web.RequestKey("principal", auth.Principal) if hasattr(web, "RequestKey") else "principal"
PUBLIC_PATHS = frozenset({"/api/health", "/api/auth/login", "/api/openapi.json"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def api_error(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> web.HTTPException:
    """A JSON error response to raise from handlers: ``{"error": message}``."""
    body = json.dumps({"error": message, **extra})
    cls = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        405: web.HTTPMethodNotAllowed,
        409: web.HTTPConflict,
        410: web.HTTPGone,
        413: web.HTTPRequestEntityTooLarge,
        415: web.HTTPUnsupportedMediaType,
        416: web.HTTPRequestRangeNotSatisfiable,
        429: web.HTTPTooManyRequests,
        503: web.HTTPServiceUnavailable,
    }.get(status)
    if cls is None:
        return web.HTTPBadRequest(text=body, content_type="application/json")
    if cls is web.HTTPMethodNotAllowed:
        return cls("", [], text=body, content_type="application/json", headers=headers)
    if cls is web.HTTPRequestEntityTooLarge:
        return cls(0, 0, text=body, content_type="application/json", headers=headers)
    return cls(text=body, content_type="application/json", headers=headers)


def principal(request: web.Request) -> auth.Principal:
    return request[PRINCIPAL]  # type: ignore[no-any-return]


def server_of(request: web.Request) -> HttpServer:
    return request.app[SERVER_KEY]


class HttpServer:
    """The ``http`` integration: owns the aiohttp runner, its accounts database and the SSE clients."""

    def __init__(self, hub: Any, config: dict[str, Any]) -> None:
        self.hub = hub
        self.config = config
        self.id = config.get("id", "http")
        self.host, self.port = split_listen(config["listen"])
        self.language: str = config.get("language", "et")
        self.limiter = auth.LoginLimiter(config["login_attempts"], config["login_window_s"])
        #: Users, sessions, tokens, audit log: in the store's SQLite file or PostgreSQL database.
        self._accounts: AccountsDb | None = None
        self.runner: web.AppRunner | None = None
        self.peaks = PeaksCache(Path(hub.data_dir) / "cache" / "waveforms")
        self.sse_queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        #: Call events to and from the other nodes on a PostgreSQL store (None on SQLite).
        self.relay: PgEventRelay | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._playback_seen: dict[tuple[str, str, str], float] = {}
        self._token_touched: dict[int, float] = {}
        self.bound_port: int | None = None
        self.metrics_from = list(config.get("metrics_from") or [])
        self.metrics = HubMetrics(hub)
        self._unsubscribe_metrics: list[Callable[[], None]] = []
        #: HTTPS served here (``http.tls``); None = plain HTTP (or TLS at a reverse proxy).
        self.tls = TlsFront(hub, config["tls"], f"http({self.id})") if config.get("tls") else None
        #: Who acknowledged the employee notice, in memory for the hub's per-call question.
        self.employees = EmployeeRegister()
        self._follow_register: asyncio.Task[None] | None = None

    @classmethod
    def from_config(cls, hub: Any, config: dict[str, Any]) -> HttpServer:
        from salvesti.plugins.http.schema import SCHEMA

        return cls(hub, SCHEMA(dict(config)))

    # -- lifecycle ------------------------------------------------------------------------
    async def async_setup(self) -> None:
        ssl_context = self.tls.context() if self.tls else None  # a bad file fails before anything opens
        self._accounts = await open_accounts(self.hub)
        await self.employees.refresh(self._accounts.register())
        if hasattr(self.hub, "provide_employee_notices"):
            self.hub.provide_employee_notices(self.employees)
            self._follow_register = self.hub.create_task(
                self.employees.follow(self._accounts.register()), name=f"http({self.id}) employee register"
            )
        app = self.make_app()
        if self.tls:
            self.tls.attach(app)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True, ssl_context=ssl_context)
        try:
            await site.start()
            if self.tls:
                await self.tls.async_start(self.host, site_port(site) or self.port)
        except OSError:
            await self.runner.cleanup()
            await self._accounts.close()
            self.runner = self._accounts = None
            raise
        self.bound_port = site_port(site)
        self._unsubscribe = self.hub.bus.subscribe("*", self._on_event)
        self.relay = relay_for(self.hub, self._fan_out)
        if self.relay is not None:
            self.relay.start()
        self._unsubscribe_metrics = self.metrics.subscribe(self.hub.bus)
        scheme = "https" if self.tls else "http"
        _LOGGER.info("http(%s): listening on %s://%s:%s/", self.id, scheme, self.host, self.bound_port)

    async def async_unload(self) -> None:
        if hasattr(self.hub, "provide_employee_notices"):
            self.hub.provide_employee_notices(None)
        if self._follow_register is not None:
            self._follow_register.cancel()
            self._follow_register = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for unsubscribe in self._unsubscribe_metrics:
            unsubscribe()
        self._unsubscribe_metrics = []
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        for q in list(self.sse_queues):
            q.put_nowait(None)
        if self.tls:
            await self.tls.async_stop()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if self._accounts is not None:
            await self._accounts.close()
            self._accounts = None

    def make_app(self) -> web.Application:
        from salvesti.plugins.http import (
            routes_admin,
            routes_analysis,
            routes_auth,
            routes_calls,
            routes_dial,
            routes_employees,
            routes_events,
            routes_metrics,
            routes_pause,
            routes_phone,
            routes_settings,
            routes_test_call,
            routes_ui,
        )
        from salvesti.plugins.http.diagnostics import routes as diagnostics_routes
        from salvesti.plugins.http.provisioning import routes as provisioning_routes

        app = web.Application(middlewares=[headers_middleware, auth_middleware], client_max_size=1024**2)
        app[SERVER_KEY] = self
        routes_auth.add_routes(app)
        routes_dial.add_routes(app)  # before /api/calls/{call_id}
        routes_analysis.add_routes(app)  # before /api/calls/{call_id}
        routes_pause.add_routes(app)
        routes_test_call.add_routes(app)
        routes_calls.add_routes(app)
        routes_admin.add_routes(app)
        routes_employees.add_routes(app)
        routes_events.add_routes(app)
        routes_metrics.add_routes(app)
        routes_phone.add_routes(app)
        routes_ui.add_routes(app)
        provisioning_routes.add_routes(app)
        diagnostics_routes.add_routes(app)
        routes_settings.add_routes(app)
        return app

    # -- helpers for routes ---------------------------------------------------------------
    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: served here, or ``secure_cookies`` behind a TLS proxy."""
        return self.tls is not None or bool(self.config.get("secure_cookies"))

    @property
    def accounts(self) -> AccountsDb:
        if self._accounts is None:
            raise api_error(503, "not ready")
        return self._accounts

    @property
    def register(self) -> RegisterDb:
        """The employee register and subject requests, beside the users (SQLite or PostgreSQL)."""
        return self.accounts.register()

    @property
    def sqlite_conn(self) -> aiosqlite.Connection | None:
        """Our SQLite connection (users, tokens, audit tables); None on PostgreSQL."""
        return self._accounts.conn if isinstance(self._accounts, SqliteAccounts) else None

    def now_iso(self) -> str:
        return str(self.hub.now().isoformat(timespec="seconds"))

    async def audit(
        self,
        request: web.Request | None,
        action: str,
        *,
        call_id: str | None = None,
        user: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit log; the user and source address come from the request."""
        who = user
        addr = None
        if request is not None:
            addr = request.remote
            p = request.get(PRINCIPAL)
            if p is not None:
                who = who or p.name
                # The role in force says under which authority the access happened.
                detail = {"role": p.role, "via": p.via, **(detail or {})}
        await self.accounts.audit_append(
            at=self.now_iso(),
            user=who,
            action=action,
            call_id=call_id,
            source_addr=addr,
            detail=detail,
        )

    def token_touch_due(self, token_id: int) -> bool:
        """``last_used_at`` to the minute is enough; a write per API request is not worth it."""
        now = time.monotonic()
        if now - self._token_touched.get(token_id, -1e9) < 60:
            return False
        self._token_touched[token_id] = now
        return True

    def playback_is_new(self, user: str, call_id: str, action: str) -> bool:
        """One audit entry per listening session, not per Range request the player makes."""
        window = float(self.config.get("audit_playback_window_s", 300))
        now = time.monotonic()
        key = (user, call_id, action)
        last = self._playback_seen.get(key)
        self._playback_seen[key] = now
        if len(self._playback_seen) > 5000:
            cutoff = now - window
            self._playback_seen = {k: v for k, v in self._playback_seen.items() if v > cutoff}
        return last is None or now - last > window

    async def get_visible_call(self, request: web.Request, call_id: str) -> Call:
        """The call, or 404 when it does not exist *or* the user may not see it (no oracle)."""
        store = self.hub.store
        call = await store.get_call(call_id) if store is not None and len(call_id) <= 128 else None
        if call is None or not can_see(principal(request), call):
            raise api_error(404, "call not found")
        return call

    async def notice_end_s(self, call: Call) -> float | None:
        """Where the notice ends in the recording, for the player's "skip notice".

        The recording starts when the outside party's audio opens and the notice plays first;
        sources record when it started (``played_at``), its length comes from the notice player.
        """
        notice = call.notice
        if not notice.played or notice.played_at is None:
            return None
        player = next(
            (
                p
                for key, p in getattr(self.hub, "notices", {}).items()
                if notice.name in (key, getattr(p, "name", None))
            ),
            None,
        )
        if player is None:
            return None
        loop = asyncio.get_running_loop()
        try:
            pcm = await loop.run_in_executor(None, player.pcm, 8000)
        except Exception:  # a notice file removed since: no skip button, not an error page
            return None
        start = call.answered_at or call.started_at
        offset = max(0.0, (notice.played_at - start).total_seconds())
        return round(offset + len(pcm) / 2 / 8000, 2)

    def _on_event(self, event: Any) -> None:
        if event.name == "recording_resumed" and event.data.get("by") == "auto":
            # the API's pauses and resumes are audited by their routes; this one had no user
            self.hub.create_task(self._audit_auto_resume(event.data), name="http audit auto-resume")
        if event.name in ("recording_paused", "recording_resumed") and event.data.get("by") in (
            "keypad",
            "mqtt",
        ):
            self.hub.create_task(self._audit_keypad(event.name, event.data), name="http audit keypad pause")
        self._fan_out(event.name, event.data)
        if isinstance(event.data, dict):
            self._share(event.name, event.data)

    async def _audit_auto_resume(self, data: dict[str, Any]) -> None:
        detail = {"ok": True, "auto": True, "pause": data.get("pause")}
        await self.audit(None, "resume", call_id=data.get("call_id"), user="auto", detail=detail)

    async def _audit_keypad(self, name: str, data: dict[str, Any]) -> None:
        """A pause or resume from a phone's keypad or a Home Assistant switch (no user: the
        audit entry's user says how)."""
        action = "pause" if name == "recording_paused" else "resume"
        pauses = data.get("pauses") or [None]
        how = str(data.get("by"))
        detail = {"ok": True, how: True, "pause": pauses[-1]}
        await self.audit(None, action, call_id=data.get("call_id"), user=how, detail=detail)

    def publish_local(self, name: str, data: dict[str, Any]) -> None:
        """To this node's event streams, and a call event to the other nodes' too."""
        self._fan_out(name, data)
        self._share(name, data)

    def _share(self, name: str, data: dict[str, Any]) -> None:
        if self.relay is not None and name in CALL_EVENTS:
            self.relay.send(name, data)

    def _fan_out(self, name: str, data: Any) -> None:
        """To this node's event streams (what the relay brings from other nodes comes here)."""
        for q in list(self.sse_queues):
            if q.qsize() < 200:  # a stalled client loses events rather than memory
                q.put_nowait({"event": name, "data": data})


def site_port(site: web.TCPSite) -> int | None:
    """The port a site is bound to (``listen: ...:0`` asks for a free one)."""
    server = getattr(site, "_server", None)
    if server is None or not server.sockets:
        return None
    return int(server.sockets[0].getsockname()[1])


def db_path(hub: Any) -> Path:
    """The store's SQLite file (our tables live beside the calls; not used on PostgreSQL)."""
    store = getattr(hub, "store", None)
    for attr in ("path", "db_path"):
        value = getattr(store, attr, None)
        if value:
            return Path(value)
    return Path(hub.data_dir) / "salvesti.db"


def can_see(p: auth.Principal, call: Call | dict[str, Any]) -> bool:
    """Managers and admins see every call; an agent only calls their extension took part in."""
    if p.can("manager"):
        return True
    if not p.extension:
        return False
    if isinstance(call, dict):
        return p.extension == call.get("extension") or p.extension in (call.get("extensions") or [])
    return p.extension == call.extension or p.extension in call.extensions


# -- middlewares ----------------------------------------------------------------------------
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every response, JSON errors for the API, and server time."""
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if request.path.startswith("/api/") and exc.content_type != "application/json" and exc.status >= 400:
            headers = {
                k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")
            }
            response = web.json_response({"error": exc.reason}, status=exc.status, headers=headers)
        else:
            response = web.Response(status=exc.status, reason=exc.reason, body=exc.body, headers=exc.headers)
    except asyncio.CancelledError:
        raise
    except Exception:
        _LOGGER.exception("http: %s %s failed", request.method, request.path)
        response = web.json_response({"error": "internal error"}, status=500)
    if not response.prepared:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


def _origin_ok(request: web.Request) -> bool:
    """Origin (or Referer) must be this server, when the browser sent one."""
    origin = request.headers.get("Origin")
    if origin is None:
        referer = request.headers.get("Referer")
        if not referer:
            return True  # non-browser clients; the CSRF token still has to match
        origin = "/".join(referer.split("/")[:3])
    allowed = {f"{request.scheme}://{request.host}", *server_of(request).config.get("allowed_origins", [])}
    return origin in allowed


async def resolve_principal(request: web.Request) -> auth.Principal | None:
    server = server_of(request)
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        found = await server.accounts.user_for_token(auth.token_hash(token.strip()))
        if found is None or found[0].disabled:
            return None
        user, token_role, token_id = found
        if server.token_touch_due(token_id):
            await server.accounts.touch_token(token_id, server.now_iso())
        role = auth.lower_role(user.role, token_role)
        return auth.Principal(user.id, user.name, role, user.extension, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found_s = await server.accounts.user_for_session(auth.token_hash(cookie), time.time())
        if found_s is None or found_s[0].disabled:
            return None
        user, csrf = found_s
        return auth.Principal(user.id, user.name, user.role, user.extension, "session", csrf)
    return None


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if not path.startswith("/api/") or path in PUBLIC_PATHS:
        if request.method in UNSAFE_METHODS and not _origin_ok(request):
            raise api_error(403, "cross-origin request refused")
        return await handler(request)
    p = await resolve_principal(request)
    if p is None:
        raise web.HTTPUnauthorized(
            text=json.dumps({"error": "authentication required"}),
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="salvesti"'},
        )
    if request.method in UNSAFE_METHODS and p.via == "session":
        sent = request.headers.get(CSRF_HEADER, "")
        if not _origin_ok(request) or not p.csrf or not hmac.compare_digest(sent, p.csrf):
            raise api_error(403, "CSRF check failed")
    request[PRINCIPAL] = p
    return await handler(request)


def require(request: web.Request, role: str) -> auth.Principal:
    p = principal(request)
    if not p.can(role):
        raise api_error(403, f"needs the {role} role")
    return p


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a 400/415 that says what is wrong."""
    if request.content_type != "application/json":
        raise api_error(415, "send JSON (Content-Type: application/json)")
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise api_error(400, "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise api_error(400, "body must be a JSON object")
    return body
