"""``http.tls`` at config time: each problem with the files is one ``FILE:LINE: key: message``
line at the key that names the file; a certificate near its end and a key others may read are
warnings (the file stays valid).  Certificates are made by the test (tls_env)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tls_env import write_pair

from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError
from salvesti.core.plugins import PluginManager

SALVESTI = str(Path(sys.executable).parent / "salvesti")


def write_config(tmp_path: Path, tls_lines: list[str]) -> Path:
    lines = [
        "salvesti: {purpose: test}",
        "http:",
        "  listen: 127.0.0.1:8443",
        "  tls:",
        *(f"    {line}" for line in tls_lines),
    ]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PAIR_LINES = ["certificate: tls/server.crt", "key: tls/server.key"]


def load(path: Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) of loading ``path``."""
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    warnings: list[str] = []
    try:
        load_config(path, plugins, warnings)
    except ConfigError as err:
        return err.errors, warnings
    return [], warnings


def test_a_good_pair_is_valid_and_quiet(tmp_path):
    write_pair(tmp_path / "tls")
    assert load(write_config(tmp_path, PAIR_LINES)) == ([], [])


def test_missing_files_name_the_key_and_the_path(tmp_path):
    errors, _ = load(write_config(tmp_path, PAIR_LINES))
    assert errors == [
        f"config.yaml:5: http.tls.certificate: no certificate file '{tmp_path}/tls/server.crt'",
        f"config.yaml:6: http.tls.key: no key file '{tmp_path}/tls/server.key'",
    ]


def test_a_key_of_another_certificate(tmp_path):
    write_pair(tmp_path / "tls")
    write_pair(tmp_path / "tls", "other")
    errors, _ = load(write_config(tmp_path, ["certificate: tls/server.crt", "key: tls/other.key"]))
    assert errors == [
        f"config.yaml:6: http.tls.key: '{tmp_path}/tls/other.key' is not the key of the certificate "
        f"'{tmp_path}/tls/server.crt'"
    ]


def test_an_expired_certificate(tmp_path):
    started = datetime.now(UTC) - timedelta(days=400)
    write_pair(tmp_path / "tls", not_before=started, days=10)
    ended = (started + timedelta(days=11)).date().isoformat()
    errors, _ = load(write_config(tmp_path, PAIR_LINES))
    assert errors == [
        f"config.yaml:5: http.tls.certificate: '{tmp_path}/tls/server.crt' expired on {ended} "
        "(CN=salvesti-test)"
    ]


def test_a_certificate_that_expires_within_30_days_is_a_warning(tmp_path):
    write_pair(tmp_path / "tls", days=10.5)  # 10.5 days from now
    ends = (datetime.now(UTC) + timedelta(days=10.5)).date().isoformat()
    assert load(write_config(tmp_path, PAIR_LINES)) == (
        [],
        [
            f"config.yaml:5: http.tls.certificate: '{tmp_path}/tls/server.crt' expires on {ends}, "
            "in 10 days: renew it"
        ],
    )


def test_a_key_others_may_read_is_a_warning(tmp_path):
    write_pair(tmp_path / "tls", key_mode=0o640)
    assert load(write_config(tmp_path, PAIR_LINES)) == (
        [],
        [
            f"config.yaml:6: http.tls.key: '{tmp_path}/tls/server.key' may be read by other users "
            "(mode 0640); chmod 600 it"
        ],
    )


@pytest.mark.parametrize(
    ("which", "content", "message"),
    [
        ("server.crt", b"not a certificate\n", "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
        ("server.key", b"not a key\n", "holds no PEM private key (-----BEGIN PRIVATE KEY-----)"),
    ],
)
def test_files_that_are_not_pem(tmp_path, which, content, message):
    write_pair(tmp_path / "tls")
    (tmp_path / "tls" / which).write_bytes(content)
    errors, _ = load(write_config(tmp_path, PAIR_LINES))
    line, key = (5, "certificate") if which.endswith(".crt") else (6, "key")
    assert errors == [f"config.yaml:{line}: http.tls.{key}: '{tmp_path}/tls/{which}' {message}"]


def test_a_key_with_a_passphrase(tmp_path):
    from cryptography.hazmat.primitives import serialization

    pair = write_pair(tmp_path / "tls")
    key = serialization.load_pem_private_key(pair.key.read_bytes(), None)
    pair.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    errors, _ = load(write_config(tmp_path, PAIR_LINES))
    assert errors == [
        f"config.yaml:6: http.tls.key: '{tmp_path}/tls/server.key' is protected by a passphrase; "
        "Salvesti needs it unencrypted (mode 0600)"
    ]


def test_a_folder_instead_of_a_file(tmp_path):
    write_pair(tmp_path / "tls")
    errors, _ = load(write_config(tmp_path, ["certificate: tls", "key: tls/server.key"]))
    assert errors == [
        f"config.yaml:5: http.tls.certificate: '{tmp_path}/tls' is a folder, not a certificate file"
    ]


def test_shape_mistakes_are_schema_errors(tmp_path):
    errors, _ = load(write_config(tmp_path, ["certificate: tls/server.crt", "keyfile: tls/server.key"]))
    assert errors == [
        "config.yaml:4: http.tls: required key 'key' not provided",
        "config.yaml:6: http.tls.keyfile: extra key not allowed, did you mean 'key'?",
    ]
    errors, _ = load(write_config(tmp_path, [*PAIR_LINES, "redirect_http: yes"]))
    assert errors == ["config.yaml:7: http.tls.redirect_http: expected a port number 1-65535, got True"]


def test_redirect_port_must_differ_from_the_https_port(tmp_path):
    write_pair(tmp_path / "tls")
    errors, _ = load(write_config(tmp_path, [*PAIR_LINES, "redirect_http: 8443"]))
    assert errors == [
        "config.yaml:7: http.tls.redirect_http: 8443 is the HTTPS port (listen); pick another, e.g. 8080"
    ]
    assert load(write_config(tmp_path, [*PAIR_LINES, "redirect_http: 8080"])) == ([], [])


def test_check_config_prints_warnings_and_exits_0(tmp_path):
    write_pair(tmp_path / "tls", key_mode=0o644)
    write_config(tmp_path, PAIR_LINES)
    result = subprocess.run(
        [SALVESTI, "check-config"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "config.yaml: configuration is valid\n"
    assert result.stderr == (
        f"warning: config.yaml:6: http.tls.key: '{tmp_path}/tls/server.key' may be read by other users "
        "(mode 0644); chmod 600 it\n"
    )
