"""The web UI served over HTTPS (``http.tls``): a real hub and server on loopback, clients that
trust only the certificate the test made.  Plain HTTP to the HTTPS port gets nothing; with
``redirect_http`` a second port sends browsers to HTTPS.  Cookies are Secure and every
response carries HSTS.  New certificate files are picked up by the next connection."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import aiohttp
import pytest
from http_env import PASSWORD, start_env
from tls_env import handshake, served_certificate, unverified_context, write_pair

from salvesti.plugins.http.server import HttpServer
from salvesti.plugins.http.tls_context import TlsFilesError


async def _stop(env) -> None:
    await env.hub.async_stop(call_timeout=0.1)


async def test_https_serves_api_and_ui_with_hsts(tmp_path):
    pair = write_pair(tmp_path / "tls")
    env = await start_env(tmp_path, tls=pair.tls())
    port = env.server.bound_port
    try:
        async with aiohttp.ClientSession(f"https://127.0.0.1:{port}") as http:
            async with http.get("/api/health", ssl=pair.client_context()) as r:
                assert r.status == 200
                assert (await r.json())["status"] == "ok"
                assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
            async with http.get("/", ssl=pair.client_context()) as r:
                assert r.status == 200
                assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
            # an error answer (no session) carries it as well
            async with http.get("/api/calls", ssl=pair.client_context()) as r:
                assert r.status == 401
                assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert await handshake(port, pair.client_context()) == (pair.sha256, "TLSv1.3")
        assert env.server.tls.files.context.minimum_version == ssl.TLSVersion.TLSv1_2
        tls12 = pair.client_context()
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        assert await handshake(port, tls12) == (pair.sha256, "TLSv1.2")
    finally:
        await _stop(env)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
async def test_old_tls_versions_are_refused(tmp_path):
    pair = write_pair(tmp_path / "tls")
    env = await start_env(tmp_path, tls=pair.tls())
    try:
        old = unverified_context()
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("ALL:@SECLEVEL=0")
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await served_certificate(env.server.bound_port, old)
    finally:
        await _stop(env)


async def test_login_cookie_is_secure_under_tls(tmp_path):
    pair = write_pair(tmp_path / "tls")
    env = await start_env(tmp_path, tls=pair.tls(), secure_cookies=False)
    url = f"https://127.0.0.1:{env.server.bound_port}"
    try:
        jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies of an IP address
        async with aiohttp.ClientSession(url, headers={"Origin": url}, cookie_jar=jar) as http:
            body = {"username": "manager", "password": PASSWORD}
            async with http.post("/api/auth/login", json=body, ssl=pair.client_context()) as r:
                assert r.status == 200, await r.text()
                cookie = r.headers["Set-Cookie"]
                csrf = (await r.json())["csrf_token"]
            assert cookie.startswith("salvesti_session=")
            attributes = [part.strip().lower() for part in cookie.split(";")]
            assert "secure" in attributes and "httponly" in attributes
            assert "samesite=strict" in attributes
            # the session works over https (the Origin check sees the https scheme)
            async with http.get("/api/calls", ssl=pair.client_context()) as r:
                assert r.status == 200
            headers = {"X-CSRF-Token": csrf}
            async with http.post("/api/auth/logout", headers=headers, ssl=pair.client_context()) as r:
                assert r.status == 200, await r.text()
    finally:
        await _stop(env)


async def test_plain_http_to_the_https_port_gets_nothing(tmp_path):
    pair = write_pair(tmp_path / "tls")
    env = await start_env(tmp_path, tls=pair.tls())
    try:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{env.server.bound_port}/api/health") as r:
                    await r.read()
    finally:
        await _stop(env)


async def test_redirect_http_sends_browsers_to_https(tmp_path):
    pair = write_pair(tmp_path / "tls")
    env = await start_env(tmp_path, tls=pair.tls(redirect_http=0))
    port, plain = env.server.bound_port, env.server.tls.redirect_bound
    assert plain and plain != port
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{plain}/calls/x?lang=en&q=a%20b"
            async with http.get(url, allow_redirects=False) as r:
                assert r.status == 308
                assert r.headers["Location"] == f"https://127.0.0.1:{port}/calls/x?lang=en&q=a%20b"
                assert "Strict-Transport-Security" not in r.headers  # never over plain HTTP
            async with http.post(f"http://localhost:{plain}/api/auth/login", allow_redirects=False) as r:
                assert r.status == 308  # the method and body are to be repeated over HTTPS
                assert r.headers["Location"] == f"https://localhost:{port}/api/auth/login"
            home = f"http://127.0.0.1:{plain}/?lang=en"
            async with http.get(home, ssl=pair.client_context()) as r:  # followed: lands on HTTPS
                assert r.status == 200
                assert str(r.url) == f"https://127.0.0.1:{port}/?lang=en"
    finally:
        await _stop(env)
    with pytest.raises(OSError):  # the redirect listener is closed with the server
        async with aiohttp.ClientSession() as http:
            await http.get(f"http://127.0.0.1:{plain}/")


async def test_new_certificate_files_are_used_without_restart(tmp_path):
    old = write_pair(tmp_path / "tls")
    env = await start_env(tmp_path, tls=old.tls())
    port = env.server.bound_port
    try:
        assert await served_certificate(port, unverified_context()) == old.sha256
        # a renewal tool writes new files in place (os.replace, as certbot's symlinks do)
        new = write_pair(tmp_path / "renewed")
        os.replace(new.key, old.key)
        os.replace(new.certificate, old.certificate)
        assert await served_certificate(port, unverified_context()) == new.sha256
        assert env.server.tls.files.reloads == 1
        # the same files again: no reload, the same certificate
        assert await served_certificate(port, unverified_context()) == new.sha256
        assert env.server.tls.files.reloads == 1
    finally:
        await _stop(env)


async def test_half_written_renewal_keeps_the_working_certificate(tmp_path, caplog):
    first = write_pair(tmp_path / "tls")
    env = await start_env(tmp_path, tls=first.tls())
    port = env.server.bound_port
    try:
        other = write_pair(tmp_path / "other")
        os.replace(other.certificate, first.certificate)  # the key is not there yet
        assert await served_certificate(port, unverified_context()) == first.sha256
        assert "still serving the previous certificate" in caplog.text
        os.replace(other.key, first.key)  # now it is
        assert await served_certificate(port, unverified_context()) == other.sha256
    finally:
        await _stop(env)


async def test_unusable_files_fail_setup_naming_them(tmp_path):
    from http_env import hub_config

    from salvesti.core.hub import Hub
    from salvesti.core.plugins import PluginManager

    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    missing = {"certificate": str(tmp_path / "nope.crt"), "key": str(tmp_path / "nope.key")}
    config = hub_config(tmp_path, tls=missing)
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    server = HttpServer.from_config(hub, {"platform": "http", **config["http"]})
    with pytest.raises(TlsFilesError) as err:
        await server.async_setup()
    assert str(err.value) == (
        f"cannot use certificate {str(tmp_path / 'nope.crt')!r} with key {str(tmp_path / 'nope.key')!r}: "
        "No such file or directory"
    )
    assert server.runner is None and server.sqlite_conn is None


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path):
    from http_env import hub_config

    from salvesti.core.hub import Hub
    from salvesti.core.plugins import PluginManager

    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    write_pair(tmp_path / "tls")
    config = hub_config(tmp_path, tls={"certificate": "tls/server.crt", "key": "tls/server.key"})
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    server = HttpServer.from_config(hub, {"platform": "http", **config["http"]})
    assert server.tls.certificate == tmp_path / "tls" / "server.crt"
    assert server.tls.key == tmp_path / "tls" / "server.key"
