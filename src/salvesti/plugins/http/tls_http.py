"""What HTTPS changes at the HTTP level: HSTS on every response, and the optional redirect.

:class:`TlsFront` is the one object the server holds when ``http.tls`` is configured: it
gives the listening socket its context (:mod:`tls_context`), adds
``Strict-Transport-Security`` to every response through ``on_response_prepare`` (so
streamed audio, the event stream and error pages carry it too, not only what the
middlewares see), and, with ``redirect_http: PORT``, runs a second, plain-HTTP listener on
the same host that answers every request with a 308 to the same path over HTTPS.  Without
it, plain HTTP to the HTTPS port simply fails its handshake: nothing is served unencrypted.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from salvesti.plugins.http.tls import DEFAULT_HSTS_MAX_AGE
from salvesti.plugins.http.tls_context import ReloadingContext

_LOGGER = logging.getLogger(__name__)


def https_location(request: web.Request, https_port: int, fallback_host: str) -> str:
    """``https://HOST[:PORT]/path?query`` for the host the client asked for."""
    host = request.host or fallback_host
    if host.startswith("["):  # [::1]:8080
        host = host[: host.index("]") + 1] if "]" in host else host
    elif host.count(":") == 1:  # name:8080; a bare IPv6 address has several colons
        host = host.split(":", 1)[0]
    elif ":" in host:
        host = f"[{host}]"
    port = "" if https_port == 443 else f":{https_port}"
    return f"https://{host}{port}{request.rel_url}"


class TlsFront:
    """The ``tls`` part of one HTTP server: context, HSTS, redirect listener."""

    def __init__(self, hub: Any, conf: dict[str, Any], label: str = "http") -> None:
        self.certificate = hub.path(conf["certificate"])
        self.key = hub.path(conf["key"])
        self.hsts_max_age = int(conf.get("hsts_max_age", DEFAULT_HSTS_MAX_AGE))
        self.redirect_port: int | None = conf.get("redirect_http")
        self.label = label
        self.files: ReloadingContext | None = None
        self._redirect_runner: web.AppRunner | None = None
        #: Where the redirect listener ended up (``redirect_http: 0`` picks a free port).
        self.redirect_bound: int | None = None

    def context(self) -> Any:
        """The context for ``web.TCPSite``; loads the files (raises TlsFilesError)."""
        self.files = ReloadingContext(self.certificate, self.key, self.label)
        return self.files.context

    def attach(self, app: web.Application) -> None:
        if self.hsts_max_age > 0:
            app.on_response_prepare.append(self._hsts)

    async def _hsts(self, request: web.Request, response: web.StreamResponse) -> None:
        if request.secure:
            response.headers["Strict-Transport-Security"] = f"max-age={self.hsts_max_age}"

    async def async_start(self, host: str, https_port: int) -> None:
        """Start the redirect listener, when configured, once the HTTPS port is known."""
        if self.redirect_port is None:
            return

        async def redirect(request: web.Request) -> web.StreamResponse:
            raise web.HTTPPermanentRedirect(https_location(request, https_port, host))

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", redirect)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, self.redirect_port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._redirect_runner = runner
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.redirect_bound = server.sockets[0].getsockname()[1]
        _LOGGER.info("%s: plain HTTP on port %s redirects to HTTPS", self.label, self.redirect_bound)

    async def async_stop(self) -> None:
        if self._redirect_runner is not None:
            await self._redirect_runner.cleanup()
            self._redirect_runner = None
