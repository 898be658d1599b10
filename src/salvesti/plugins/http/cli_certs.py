"""``salvesti certs self-signed``: HTTPS for a box on a LAN without a public certificate.

Writes ``DATA_DIR/tls/salvesti.crt`` and ``salvesti.key`` (mode 0600) and prints the YAML
that turns them on and the SHA-256 fingerprint a person compares in the browser's warning
page before trusting it.  An existing pair is kept unless ``--force``: browsers and phones
that trust the old certificate would have to be shown the new one.  Files are replaced
atomically, key first, so a running server (which reloads on change) never reads half a file.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from pathlib import Path
from typing import Any

from salvesti.cli_common import EXIT_CONFIG, EXIT_OK, CommandError, add_config_argument, load
from salvesti.plugins.http import selfsigned
from salvesti.plugins.http.schema import DEFAULT_LISTEN, split_listen

CERT_NAME, KEY_NAME = "salvesti.crt", "salvesti.key"
#: Apple devices refuse server certificates valid for longer than this.
APPLE_MAX_DAYS = 825


def _settings(args: argparse.Namespace) -> tuple[Path, Path, str]:
    """The config's folder, the data folder and ``http.listen``.

    A config whose ``http.tls`` already names these very files (not written yet) is invalid
    only there; the command must still run, so it then reads the two values from the YAML.
    """
    config_dir = args.config.resolve().parent
    try:
        loaded = load(args)
    except CommandError as err:
        lines = str(err).splitlines()
        if err.code != EXIT_CONFIG or not all(": http.tls." in line for line in lines):
            raise
        from salvesti.core.config.yaml_loader import Secrets, load_yaml

        raw = load_yaml(args.config, config_dir, Secrets(config_dir / "secrets.yaml", config_dir)) or {}
        data_dir = (raw.get("salvesti") or {}).get("data_dir", "./data")
        listen = str((raw.get("http") or {}).get("listen", DEFAULT_LISTEN))
        return config_dir, _resolve(config_dir, str(data_dir)), listen
    http = loaded.config.get("http") or {}
    return config_dir, Path(loaded.config["salvesti"]["data_dir"]), http.get("listen", DEFAULT_LISTEN)


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` beside ``path`` with ``mode`` from the start, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # an old tmp file keeps its mode otherwise
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _shown_path(path: Path, config_dir: Path) -> str:
    """Relative to the config's folder when inside it (how the config reads paths)."""
    try:
        return str(path.relative_to(config_dir))
    except ValueError:
        return str(path)


def _listen_host(listen: str) -> str | None:
    """The listen address when it is a concrete one the browser may use."""
    host, _port = split_listen(listen)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or None
    return None if address.is_unspecified or address.is_loopback else host


def cmd_self_signed(args: argparse.Namespace) -> int:
    config_dir, data_dir, listen = _settings(args)
    names = [*(args.host or []), *selfsigned.default_names()]
    concrete = _listen_host(listen)
    if concrete:
        names.insert(len(args.host or []), concrete)
    try:
        made = selfsigned.make(names, days=args.days)
    except ValueError as err:
        raise CommandError(f"error: {err}", EXIT_CONFIG) from None
    folder = data_dir / "tls"
    cert_path, key_path = folder / CERT_NAME, folder / KEY_NAME
    existing = [p for p in (cert_path, key_path) if p.exists()]
    if existing and not args.force:
        raise CommandError(
            f"error: {existing[0]} exists; browsers that trust it would need the new one shown to them: "
            "add --force to replace it"
        )
    folder.mkdir(parents=True, exist_ok=True)
    _write(key_path, made.key_pem, 0o600)
    _write(cert_path, made.certificate_pem, 0o644)

    host, port = split_listen(listen)
    lan_listen = listen if concrete or host in ("0.0.0.0", "::") else f"0.0.0.0:{port}"
    first = concrete or next((n for n in made.names if n not in ("localhost", "127.0.0.1")), "localhost")
    print(f"wrote a self-signed certificate for {', '.join(made.names)}")
    print(f"  certificate: {cert_path}")
    print(f"  key:         {key_path} (mode 0600)")
    print(f"  valid until: {made.not_after.date().isoformat()}")
    if args.days > APPLE_MAX_DAYS:
        print(
            f"  note: iPhones, iPads and Macs refuse certificates valid for more than {APPLE_MAX_DAYS} days"
        )
    print()
    print("SHA-256 fingerprint (compare it with the one the browser shows before trusting it):")
    print(f"  {made.fingerprint}")
    print()
    print(f"Add to {args.config} (merge with the http: block you have):")
    print()
    print("http:")
    suffix = "" if lan_listen == listen else f"   # was {listen}: reachable from the LAN"
    print(f"  listen: {lan_listen}{suffix}")
    print("  tls:")
    print(f"    certificate: {_shown_path(cert_path, config_dir)}")
    print(f"    key: {_shown_path(key_path, config_dir)}")
    print()
    print(f"Then restart salvesti and open https://{first}:{port}/ (trusting it on phones: docs/https.md).")
    print("A running salvesti whose http.tls already names these files uses the new ones by itself.")
    return EXIT_OK


def add_commands(subparsers: Any) -> None:
    certs = subparsers.add_parser("certs", help="certificates for the web UI's HTTPS").add_subparsers(
        dest="certs_cmd", required=True, metavar="ACTION"
    )
    p = certs.add_parser(
        "self-signed", help="write a self-signed certificate and key into DATA_DIR/tls and print the YAML"
    )
    add_config_argument(p)
    p.add_argument(
        "--host",
        action="append",
        metavar="NAME_OR_IP",
        help="a name or address browsers use for this box (repeatable); the host name, "
        "NAME.local, localhost and 127.0.0.1 are always included",
    )
    p.add_argument(
        "--days",
        type=int,
        default=selfsigned.DEFAULT_DAYS,
        help=f"validity (default {selfsigned.DEFAULT_DAYS})",
    )
    p.add_argument("--force", action="store_true", help="replace an existing certificate and key")
    p.set_defaults(func=cmd_self_signed)
