"""HTTP routes: the files phones fetch (``/provision/...``) and the admin view of one extension.

Phone routes are outside ``/api`` and take no login (a phone booting from DHCP option 66 has
none); what protects them instead:

* a file is served only for a MAC configured on an enabled source, in the family's file name,
  under the source's path ``token`` when it has one; everything else is the same 404;
* the answer costs the same either way: a decoy file is written and an audit entry appended
  for misses too, so timing does not tell a configured MAC from an unknown one;
* misses are counted per client address (the login limiter): after ``FAILURES`` in
  ``WINDOW_S`` the address gets 429 for every file until the window passes;
* every MAC-shaped fetch and every softphone fetch is in the audit log (action ``provision``)
  with the client address, the MAC or extension and whether it was served; the password and
  the tokens are never written there or to the log.

Names that are not MAC-shaped (phones also ask for common files such as
``y000000000028.cfg`` or ``cfg.xml``) get a 404 that is neither counted nor audited.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from salvesti.core.provisioning import PhoneAccount, ProvisioningPlan, colon_mac
from salvesti.plugins.http import auth
from salvesti.plugins.http.config_where import extension_where
from salvesti.plugins.http.provisioning import directory, families, linphone
from salvesti.plugins.http.provisioning.settings import PhoneSettings, phone_settings
from salvesti.plugins.http.provisioning.tokens import extension_token, qr_svg
from salvesti.plugins.http.server import HttpServer, api_error, require, server_of

_LOGGER = logging.getLogger(__name__)

#: Misses allowed per client address in the window (a booting phone misses none: it asks for
#: its own MAC; common-file names are not counted).
FAILURES = 10
WINDOW_S = 300.0

LIMITER_KEY: web.AppKey[auth.LoginLimiter] = web.AppKey("salvesti_provisioning_limiter", auth.LoginLimiter)

_DECOY_PLAN = ProvisioningPlan(
    source="-",
    enabled=False,
    server="0.0.0.0",
    port=5060,
    transport="udp",
    codecs=("PCMA", "PCMU", "G722"),
    ntp_server="pool.ntp.org",
)
_DECOY_ACCOUNT = PhoneAccount(user="000", password="x" * 24, display_name="-", mac="000000000000")
_DECOY = directory.Found(_DECOY_PLAN, _DECOY_ACCOUNT)


def _limiter(request: web.Request) -> auth.LoginLimiter:
    return request.app[LIMITER_KEY]


def _client_key(request: web.Request) -> str:
    return f"addr:{request.remote}"


def _refuse_if_limited(request: web.Request) -> None:
    wait = _limiter(request).retry_after(_client_key(request))
    if wait > 0:
        raise web.HTTPTooManyRequests(
            text="too many unknown provisioning requests, try again later\n",
            headers={"Retry-After": str(int(wait) + 1)},
        )


def _settings(server: HttpServer, request: web.Request, found: directory.Found) -> PhoneSettings:
    tz = getattr(getattr(server.hub, "tz", None), "key", None) or "Europe/Tallinn"
    return phone_settings(
        found.plan, found.account, fetched_from=request.url.host or "127.0.0.1", timezone=tz
    )


def _file(body: str, content_type: str) -> web.Response:
    return web.Response(
        text=body, content_type=content_type, charset="utf-8", headers={"Cache-Control": "no-store"}
    )


async def _miss(request: web.Request, server: HttpServer, detail: dict[str, Any]) -> web.HTTPNotFound:
    _limiter(request).failed(_client_key(request))
    await server.audit(request, "provision", detail={**detail, "ok": False})
    return web.HTTPNotFound(text="not found\n")


async def phone_file(request: web.Request) -> web.Response:
    server = server_of(request)
    _refuse_if_limited(request)
    name = request.match_info["name"]
    given_token = request.match_info.get("token")
    parsed = families.parse(name)
    if parsed is None:
        raise web.HTTPNotFound(text="not found\n")
    mac, asked_families = parsed
    found = directory.by_mac(server.hub, mac)
    token_ok = directory.path_token_ok(found.plan if found else None, given_token)
    served = found if found and token_ok and found.account.family in asked_families else None
    # A miss does the same work: a decoy file of the family asked for.
    family = (served.account.family if served else None) or asked_families[0]
    writer = families.writer(family)
    body = writer.render(_settings(server, request, served or _DECOY))
    detail = {"mac": colon_mac(mac), "file": name}
    if served is None:
        raise await _miss(request, server, detail)
    await server.audit(
        request,
        "provision",
        detail={
            **detail,
            "ok": True,
            "source": served.plan.source,
            "extension": served.account.user,
            "phone": family,
        },
    )
    _LOGGER.info(
        "http(%s): provisioned %s (extension %s) to %s", server.id, name, served.account.user, request.remote
    )
    return _file(body, writer.CONTENT_TYPE)


async def linphone_file(request: web.Request) -> web.Response:
    server = server_of(request)
    _refuse_if_limited(request)
    found = directory.by_token(server.hub, request.match_info["token"])
    body = linphone.render(_settings(server, request, found or _DECOY))
    if found is None:
        raise await _miss(request, server, {"file": "linphone"})
    await server.audit(
        request,
        "provision",
        detail={
            "file": "linphone",
            "ok": True,
            "source": found.plan.source,
            "extension": found.account.user,
            "phone": "linphone",
        },
    )
    _LOGGER.info(
        "http(%s): provisioned linphone (extension %s) to %s", server.id, found.account.user, request.remote
    )
    return _file(body, linphone.CONTENT_TYPE)


# -- admin API -------------------------------------------------------------------------------
def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def provisioning_view(request: web.Request, found: directory.Found, *, reveal: bool) -> dict[str, Any]:
    """What an admin needs to set one extension's phone up: URLs, QR code, hand-typed values."""
    server = server_of(request)
    plan, account = found.plan, found.account
    s = _settings(server, request, found)
    base = f"{_base_url(request)}/provision/" + (f"{plan.token}/" if plan.token else "")
    phone = None
    if account.mac and account.family:
        writer = families.writer(account.family)
        phone = {
            "mac": colon_mac(account.mac),
            "family": account.family,
            "file": writer.file_names(account.mac)[0],
            "url": base + writer.file_names(account.mac)[0] if plan.enabled else None,
        }
    linphone_url = (
        f"{_base_url(request)}/provision/linphone/{extension_token(plan.source, account)}.xml"
        if plan.enabled
        else None
    )
    manual: dict[str, Any] = {
        "server": s.server,
        "port": s.port,
        "transport": s.transport,
        "user": s.user,
        "auth_user": s.user,
        "display_name": s.display_name,
        "codecs": list(s.codecs),
        "dtmf": "RFC 4733 (RFC 2833), payload 101",
    }
    if reveal:
        manual["password"] = account.password
    return {
        "extension": account.user,
        "source": plan.source,
        "enabled": plan.enabled,
        "provisioning_url": base if plan.enabled else None,
        "phone": phone,
        "linphone": {"url": linphone_url, "qr_svg": qr_svg(linphone_url) if linphone_url else None},
        "sip_uri": s.sip_uri,
        "manual": manual,
        # config.yaml owns the extension and the provisioning block: where to change them.
        "where": {
            "extension": extension_where(server.hub.config_marks, plan.source, account.user),
            "provisioning": server.hub.config_marks.of_item("sources", plan.source, "provisioning"),
        },
    }


async def extension_provisioning(request: web.Request) -> web.Response:
    server = server_of(request)
    require(request, "admin")
    user = request.match_info["ext"]
    reveal = request.query.get("reveal") in ("1", "true", "yes")
    found = directory.by_extension(server.hub, user) if len(user) <= 32 else None
    if found is None:
        raise api_error(404, "no such extension")
    await server.audit(
        request,
        "provisioning_view",
        detail={"extension": user, "source": found.plan.source, "reveal": reveal},
    )
    return web.json_response(provisioning_view(request, found, reveal=reveal))


def add_routes(app: web.Application) -> None:
    app[LIMITER_KEY] = auth.LoginLimiter(FAILURES, WINDOW_S)
    app.router.add_get("/provision/linphone/{token}.xml", linphone_file)
    app.router.add_get("/provision/{name}", phone_file)
    app.router.add_get("/provision/{token}/{name}", phone_file)
    app.router.add_get("/api/extensions/{ext}/provisioning", extension_provisioning)


_ERR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_URL = {"type": ["string", "null"]}

#: Merged into ``openapi.openapi_document()``.
OPENAPI_PATHS: dict[str, Any] = {
    "/api/extensions/{ext}/provisioning": {
        "parameters": [
            {"name": "ext", "in": "path", "required": True, "schema": {"type": "string"}},
        ],
        "get": {
            "summary": "How to set up an extension's phone: provisioning URLs, a QR code, hand-typed values",
            "description": "Admins only. The password is left out unless `reveal=1`. Every call is audited "
            "(action `provisioning_view`), because the softphone URL alone gives the account away.",
            "parameters": [
                {
                    "name": "reveal",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["0", "1"]},
                },
            ],
            "responses": {
                "200": {
                    "description": "the extension's provisioning",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": [
                                    "extension",
                                    "source",
                                    "enabled",
                                    "phone",
                                    "linphone",
                                    "sip_uri",
                                    "manual",
                                ],
                                "properties": {
                                    "extension": {"type": "string"},
                                    "source": {"type": "string"},
                                    "enabled": {"type": "boolean"},
                                    "provisioning_url": _URL,
                                    "phone": {
                                        "type": ["object", "null"],
                                        "properties": {
                                            "mac": {"type": "string"},
                                            "family": {"type": "string"},
                                            "file": {"type": "string"},
                                            "url": _URL,
                                        },
                                    },
                                    "linphone": {
                                        "type": "object",
                                        "properties": {"url": _URL, "qr_svg": {"type": ["string", "null"]}},
                                    },
                                    "sip_uri": {"type": "string"},
                                    "where": {
                                        "type": "object",
                                        "description": "FILE:LINE of the extension, of provisioning:",
                                        "properties": {
                                            "extension": {"type": ["string", "null"]},
                                            "provisioning": {"type": ["string", "null"]},
                                        },
                                    },
                                    "manual": {
                                        "type": "object",
                                        "required": ["server", "port", "transport", "user"],
                                        "properties": {
                                            "server": {"type": "string"},
                                            "port": {"type": "integer"},
                                            "transport": {"type": "string", "enum": ["udp", "tcp"]},
                                            "user": {"type": "string"},
                                            "auth_user": {"type": "string"},
                                            "display_name": {"type": "string"},
                                            "codecs": {"type": "array", "items": {"type": "string"}},
                                            "dtmf": {"type": "string"},
                                            "password": {"type": "string"},
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "401": {**_ERR, "description": "not authenticated"},
                "403": {**_ERR, "description": "not an admin"},
                "404": {**_ERR, "description": "no such extension"},
            },
        },
    }
}
