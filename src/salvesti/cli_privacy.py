"""``salvesti privacy notice|record``: the GDPR texts, rendered from the config that runs.

Printed to stdout as Markdown (redirect to a file, or paste into the website), so that the
notice and the record of processing always say what ``salvesti run`` does with this file.
"""

from __future__ import annotations

import argparse
from typing import Any

from salvesti.cli_common import EXIT_OK, add_config_argument, load
from salvesti.privacy.common import LANGS
from salvesti.privacy.facts import gather
from salvesti.privacy.notice import AUDIENCES, render_notice
from salvesti.privacy.record import render_record


def cmd_notice(args: argparse.Namespace) -> int:
    print(render_notice(gather(load(args).config), args.lang, args.audience), end="")
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    print(render_record(gather(load(args).config), args.lang), end="")
    return EXIT_OK


def add_commands(sub: Any) -> None:
    privacy = sub.add_parser("privacy", help="GDPR texts generated from the config").add_subparsers(
        dest="privacy_cmd", required=True
    )
    notice = privacy.add_parser("notice", help="the Art. 13 privacy notice (Markdown)")
    add_config_argument(notice)
    notice.add_argument("--lang", choices=LANGS, default="et", help="default: et")
    notice.add_argument(
        "--for", dest="audience", choices=AUDIENCES, default="callers", help="callers (default) or employees"
    )
    notice.set_defaults(func=cmd_notice)
    record = privacy.add_parser("record", help="the Art. 30 record of processing (Markdown)")
    add_config_argument(record)
    record.add_argument("--lang", choices=LANGS, default="et", help="default: et")
    record.set_defaults(func=cmd_record)
