"""``salvesti dial NUMBER --source ID [--extension EXT] [--wait] -c FILE``.

Places an outbound call through the RUNNING ``salvesti run`` (the device is open there and
only one process can drive it), by one request on its control socket
(``<data_dir>/control.sock``; why a socket and not the HTTP API: see
:mod:`salvesti.core.control`).  Prints the call object as JSON on stdout (``--wait``: once
the call has ended, with its disposition and recording); errors go to stderr with exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from salvesti.cli_common import EXIT_FAILED, EXIT_OK, CommandError, add_config_argument, bare_hub, load
from salvesti.core import control


def add_dial_command(sub: Any) -> None:
    parser = sub.add_parser(
        "dial",
        help="place an outbound call through a running salvesti (serial_at source)",
        description="Dial NUMBER on source ID; with --extension, that SIP phone rings after the notice.",
    )
    parser.add_argument("number", help="the number to call (E.164 or local)")
    parser.add_argument("--source", required=True, metavar="ID", help="the source id that dials (serial_at)")
    parser.add_argument("--extension", metavar="EXT", help="SIP extension bridged after the notice")
    parser.add_argument("--wait", action="store_true", help="print the call when it has ended")
    add_config_argument(parser)
    parser.set_defaults(func=cmd_dial)


def cmd_dial(args: argparse.Namespace) -> int:
    loaded = load(args)
    path = control.socket_path(bare_hub(loaded).data_dir)
    if not path.exists():
        raise CommandError(f"{path} not found: is 'salvesti run -c {args.config}' running?")
    payload = {
        "op": "dial",
        "source": args.source,
        "number": args.number,
        "extension": args.extension,
        "wait": bool(args.wait),
    }
    try:
        answer = asyncio.run(control.request(path, payload, limit=control.WAIT_LIMIT if args.wait else 30))
    except (OSError, TimeoutError) as err:
        raise CommandError(f"cannot reach salvesti at {path}: {err}") from err
    if not answer.get("ok"):
        raise CommandError(f"dial failed: {answer.get('error')}", EXIT_FAILED)
    print(json.dumps(answer["call"], ensure_ascii=False, indent=2))
    return EXIT_OK
