"""``GET /metrics``: the hub's Prometheus metrics, for an admin or a trusted scraper address.

Outside ``/api`` (where Prometheus looks by default), so the API's auth middleware lets it
through and this handler decides itself, as CONTRACT "Operations" says: a Bearer token must
be an admin's (else 401 for a bad token, 403 for a weaker role); without a token the client's
address must be in ``http.metrics_from`` (else 401).  A session cookie is not enough: a
scraper has none, and a browser tab should not be a way around the address list.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from salvesti.plugins.http.server import resolve_principal, server_of

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def address_allowed(remote: str | None, networks: Sequence[Network]) -> bool:
    """True when ``remote`` (an IPv4, IPv6 or IPv4-mapped IPv6 address) is in one of ``networks``."""
    if not remote:
        return False
    try:
        addr = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == net.version and addr in net for net in networks)


def _refuse(status: int, message: str) -> web.HTTPException:
    cls = web.HTTPUnauthorized if status == 401 else web.HTTPForbidden
    headers = {"WWW-Authenticate": 'Bearer realm="salvesti"'} if status == 401 else None
    return cls(text=json.dumps({"error": message}), content_type="application/json", headers=headers)


async def metrics(request: web.Request) -> web.Response:
    server = server_of(request)
    if "Authorization" in request.headers:
        p = await resolve_principal(request)
        if p is None:
            raise _refuse(401, "authentication required")
        if not p.can("admin"):
            raise _refuse(403, "needs the admin role")
    elif not address_allowed(request.remote, server.metrics_from):
        raise _refuse(401, "authentication required (or scrape from an address in http.metrics_from)")
    await server.metrics.refresh()
    return web.Response(body=server.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
