"""``salvesti test-call EXT [--seconds N] [--no-wait] -c FILE``.

Asks the RUNNING ``salvesti run`` (its SIP source holds the phones' registrations) to place a
test call to extension EXT, by one request on its control socket (as ``salvesti dial`` does;
see :mod:`salvesti.core.control`).  By default it waits for the end of the call and says how
it went in one line on stderr ("extension 101 answered; recording saved: ...") with the call
object as JSON on stdout; exit 1 when the phone did not answer, was busy or the call was
refused (not registered, a test call already in progress).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from salvesti.cli_common import EXIT_FAILED, EXIT_OK, CommandError, add_config_argument, bare_hub, load
from salvesti.core import control, test_call


def add_test_call_command(sub: Any) -> None:
    parser = sub.add_parser(
        "test-call",
        help="ring an extension through a running salvesti: notice, beep, a few seconds recorded",
        description="Ring EXT with caller ID 'Salvesti test'; when answered it hears the notice, then a "
        "beep, and what it says for --seconds is recorded as a call (meta.test_call).",
    )
    parser.add_argument("extension", metavar="EXT", help="the extension to ring (a sip_trunk extension)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=test_call.DEFAULT_SECONDS,
        help=f"seconds recorded after the beep (default {test_call.DEFAULT_SECONDS:.0f}, "
        f"at most {test_call.MAX_SECONDS:.0f})",
    )
    parser.add_argument("--no-wait", action="store_true", help="print the call as it starts ringing")
    add_config_argument(parser)
    parser.set_defaults(func=cmd_test_call)


def cmd_test_call(args: argparse.Namespace) -> int:
    if not test_call.MIN_SECONDS <= args.seconds <= test_call.MAX_SECONDS:
        raise CommandError(
            f"--seconds must be {test_call.MIN_SECONDS:.0f} to {test_call.MAX_SECONDS:.0f}", EXIT_FAILED
        )
    loaded = load(args)
    path = control.socket_path(bare_hub(loaded).data_dir)
    if not path.exists():
        raise CommandError(f"{path} not found: is 'salvesti run -c {args.config}' running?")
    wait = not args.no_wait
    payload = {"op": "test_call", "extension": args.extension, "seconds": args.seconds, "wait": wait}
    limit = test_call.RING_SECONDS + test_call.MAX_SECONDS + 150 if wait else 30
    try:
        answer = asyncio.run(control.request(path, payload, limit=limit))
    except (OSError, TimeoutError) as err:
        raise CommandError(f"cannot reach salvesti at {path}: {err}") from err
    if not answer.get("ok"):
        raise CommandError(f"test call refused: {answer.get('error')}", EXIT_FAILED)
    call = answer["call"]
    print(json.dumps(call, ensure_ascii=False, indent=2))
    if not wait:
        print(f"test call {call['id']} rings extension {args.extension}", file=sys.stderr)
        return EXIT_OK
    print(test_call.outcome_words(call), file=sys.stderr)
    return EXIT_OK if call.get("disposition") == "answered" else EXIT_FAILED
