"""``salvesti certs self-signed`` run as a user would: it writes a certificate and a 0600 key
into the data folder, the names browsers use are in subjectAltName, the printed fingerprint is
the certificate's, and the printed YAML, pasted into the config, is valid and serves HTTPS."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

SALVESTI = str(Path(sys.executable).parent / "salvesti")
CONFIG = "salvesti: {purpose: test, data_dir: ./data}\nhttp:\n  listen: 127.0.0.1:8443\n"


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SALVESTI, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )


def printed_yaml(stdout: str) -> str:
    """The block the command prints between ``http:`` and the blank line after it."""
    match = re.search(r"^http:\n(?:  .*\n)+", stdout, re.MULTILINE)
    assert match, stdout
    return match.group(0)


def test_self_signed_certificate_for_the_lan(tmp_path):
    (tmp_path / "config.yaml").write_text(CONFIG)
    result = run(
        tmp_path, "certs", "self-signed", "-c", "config.yaml", "--host", "192.168.1.20", "--host", "box.lan"
    )
    assert result.returncode == 0, result.stderr
    cert_path, key_path = tmp_path / "data/tls/salvesti.crt", tmp_path / "data/tls/salvesti.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    host = socket.gethostname()
    assert set(san.get_values_for_type(x509.DNSName)) >= {"box.lan", host.lower(), "localhost"}
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("192.168.1.20"),
        ipaddress.ip_address("127.0.0.1"),
    }
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == 825  # the longest Apple devices accept (plus the hour of clock slack)

    digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest().upper()
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, 64, 2))
    assert f"\n  {fingerprint}\n" in result.stdout
    assert printed_yaml(result.stdout) == (
        "http:\n"
        "  listen: 0.0.0.0:8443   # was 127.0.0.1:8443: reachable from the LAN\n"
        "  tls:\n"
        "    certificate: data/tls/salvesti.crt\n"
        "    key: data/tls/salvesti.key\n"
    )

    # pasted in place of the http: block, the config is valid with no warning
    (tmp_path / "config.yaml").write_text(
        "salvesti: {purpose: test, data_dir: ./data}\n" + printed_yaml(result.stdout)
    )
    check = run(tmp_path, "check-config")
    assert (check.returncode, check.stderr) == (0, "")

    # a second run keeps the certificate browsers may already trust ...
    again = run(tmp_path, "certs", "self-signed", "-c", "config.yaml", "--days", "30")
    assert again.returncode == 1
    assert again.stderr.startswith(f"error: {cert_path} exists;")
    assert again.stderr.rstrip().endswith("add --force to replace it")
    assert x509.load_pem_x509_certificate(cert_path.read_bytes()) == cert
    # ... unless told; a config that already names the files works too
    forced = run(tmp_path, "certs", "self-signed", "-c", "config.yaml", "--days", "90", "--force")
    assert forced.returncode == 0, forced.stderr
    renewed = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert renewed != cert
    assert (renewed.not_valid_after_utc - renewed.not_valid_before_utc).days == 90
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert "listen: 0.0.0.0:8443\n" in printed_yaml(forced.stdout)  # already on the LAN: unchanged


def test_config_that_names_the_files_before_they_exist(tmp_path):
    (tmp_path / "config.yaml").write_text(
        CONFIG + "  tls: {certificate: data/tls/salvesti.crt, key: data/tls/salvesti.key}\n"
    )
    before = run(tmp_path, "check-config")
    assert before.returncode == 2
    result = run(tmp_path, "certs", "self-signed", "-c", "config.yaml")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data/tls/salvesti.key").exists()
    assert run(tmp_path, "check-config").returncode == 0


def test_a_host_that_is_no_name(tmp_path):
    (tmp_path / "config.yaml").write_text(CONFIG)
    result = run(tmp_path, "certs", "self-signed", "-c", "config.yaml", "--host", "http://box/")
    assert result.returncode == 2
    assert result.stderr == "error: 'http://box/' is neither an IP address nor a host name\n"
    assert not (tmp_path / "data/tls").exists()
