"""Command-line side of the HTTP plugin: users, tokens, GDPR subject requests, audit verification.

These work on the store's database directly (the server need not run): the SQLite file, or the
PostgreSQL database every node shares, through the same :class:`AccountsDb` as the server.  So
the first admin can be created before anyone can log in, and an erasure request can be carried
out on a stopped box.
Every subject export and erasure is written to the same hash-chained audit log as web access.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import hashlib
import json
import shutil
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from salvesti.core.crypto.access import export_plain, is_sealed
from salvesti.plugins.http import accounts, auth, subject_requests
from salvesti.plugins.http.accounts_db import AccountsDb, open_accounts
from salvesti.plugins.http.routes_calls import delete_recording


class _Ctx:
    """What a command needs: the config, a bare hub with the store (and sinks, for erasure) open,
    and the accounts database (users, tokens, the audit log) of that store."""

    def __init__(self, loaded: Any, *, sinks: bool = False) -> None:
        from salvesti.cli_common import bare_hub

        self.loaded = loaded
        self.config = loaded.config
        self.hub = bare_hub(loaded)
        self.want_sinks = sinks
        self.store: Any = None
        self.accounts: AccountsDb | None = None
        self._stack = contextlib.AsyncExitStack()

    @property
    def db(self) -> AccountsDb:
        assert self.accounts is not None, "used outside 'async with'"
        return self.accounts

    def now(self) -> datetime:
        return datetime.now(self.hub.tz)

    def now_iso(self) -> str:
        return self.now().isoformat(timespec="seconds")

    async def __aenter__(self) -> _Ctx:
        from salvesti.cli_common import open_store, setup_component

        self.store = await self._stack.enter_async_context(open_store(self.loaded, self.hub))
        if self.want_sinks:
            for conf in self.config.get("sinks") or []:
                sink = await setup_component(self.hub, "sink", conf)
                self.hub.sinks[conf["id"]] = sink
                self._stack.push_async_callback(sink.async_unload)
        self.accounts = await open_accounts(self.hub)
        self._stack.push_async_callback(self.accounts.close)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        if self.hub.keyring is not None:  # opened on first use by an encrypted recording
            self.hub.keyring.close()
            self.hub.keyring = None

    async def audit(self, action: str, **kw: Any) -> None:
        await self.db.audit_append(
            at=self.now_iso(),
            user=f"cli:{getpass.getuser()}",
            action=action,
            source_addr="cli",
            **kw,
        )


def _run(args: argparse.Namespace, body: Callable[[_Ctx], Awaitable[int]], *, sinks: bool = False) -> int:
    from salvesti.cli_common import load

    loaded = load(args)

    async def main() -> int:
        async with _Ctx(loaded, sinks=sinks) as ctx:
            return await body(ctx)

    return asyncio.run(main())


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


# -- users and tokens ---------------------------------------------------------------------------
def cmd_users_add(args: argparse.Namespace) -> int:
    password = _read_password()

    async def body(ctx: _Ctx) -> int:
        try:
            user = await accounts.create_user(
                ctx.db, args.name, args.role, password, args.extension, ctx.now_iso()
            )
        except accounts.AccountError as err:
            print(f"salvesti: {err}", file=sys.stderr)
            return 1
        await ctx.audit("user_add", detail={"name": user.name, "role": user.role})
        print(f"user {user.name} ({user.role}) added")
        return 0

    return _run(args, body)


def cmd_users_list(args: argparse.Namespace) -> int:
    async def body(ctx: _Ctx) -> int:
        for user in await ctx.db.list_users():
            ext = f" ext {user.extension}" if user.extension else ""
            print(f"{user.name}\t{user.role}{ext}{' (disabled)' if user.disabled else ''}")
        return 0

    return _run(args, body)


def cmd_tokens_create(args: argparse.Namespace) -> int:
    async def body(ctx: _Ctx) -> int:
        try:
            token_id, token, role = await accounts.create_token(
                ctx.db, args.user, args.role, args.name or "", ctx.now_iso()
            )
        except accounts.AccountError as err:
            print(f"salvesti: {err}", file=sys.stderr)
            return 1
        await ctx.audit("token_create", detail={"user": args.user, "role": role, "id": token_id})
        print(token)
        print(f"token {token_id} for {args.user} ({role}); it is shown only once", file=sys.stderr)
        return 0

    return _run(args, body)


def cmd_tokens_list(args: argparse.Namespace) -> int:
    async def body(ctx: _Ctx) -> int:
        for t in await ctx.db.list_tokens():
            state = f"revoked {t['revoked_at']}" if t["revoked_at"] else "active"
            print(f"{t['id']}\t{t['user']}\t{t['role']}\t{t['name']}\t{state}")
        return 0

    return _run(args, body)


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    async def body(ctx: _Ctx) -> int:
        if not await ctx.db.revoke_token(args.id, ctx.now_iso()):
            print(f"salvesti: no active token {args.id}", file=sys.stderr)
            return 1
        await ctx.audit("token_revoke", detail={"id": args.id})
        print(f"token {args.id} revoked")
        return 0

    return _run(args, body)


# -- GDPR subject requests ----------------------------------------------------------------------
async def subject_calls(ctx: _Ctx, number: str) -> list[Any]:
    """Every call with exactly this remote number (the store's number filter matches parts)."""
    from salvesti.core.components import CallQuery
    from salvesti.core.numbers import normalize_number

    country = ctx.hub.default_country
    wanted = normalize_number(number, country)
    calls = await ctx.store.list_calls(CallQuery(number=number, limit=0))
    return [c for c in calls if c.remote_number and normalize_number(c.remote_number, country) == wanted]


def _received(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {value!r}") from None


async def _request(
    ctx: _Ctx, kind: str, number: str, received: date | None
) -> subject_requests.SubjectRequest:
    """The open ``kind`` request of ``number``, else a new one received on ``received`` (today)."""
    from salvesti.core.numbers import normalize_number

    wanted = normalize_number(number, ctx.hub.default_country) or number
    found = await ctx.db.register().open_requests(kind, wanted)
    if found and received is None:
        return found[0]
    day = received or ctx.now().date()
    match = next((r for r in found if r.received == day), None)
    if match is not None:
        return match
    return await ctx.db.register().log_request(
        kind, wanted, day, by=f"cli:{getpass.getuser()}", now=ctx.now_iso()
    )


async def _close(ctx: _Ctx, kind: str, number: str, outcome: str) -> None:
    from salvesti.core.numbers import normalize_number

    wanted = normalize_number(number, ctx.hub.default_country) or number
    await ctx.db.register().close_requests(kind, wanted, outcome=outcome, now=ctx.now_iso())


def _deadline_note(req: subject_requests.SubjectRequest, today: date) -> str:
    late = " (OVERDUE)" if req.overdue(today) else ""
    return f"request received {req.received.isoformat()}, answer by {req.deadline.isoformat()}{late}"


def cmd_subject_request(args: argparse.Namespace) -> int:
    """Log a request when it arrives, so it shows as open with its deadline until it is done."""

    async def body(ctx: _Ctx) -> int:
        req = await _request(ctx, args.kind, args.number, args.received)
        print(f"{args.kind} request of {args.number}: {_deadline_note(req, ctx.now().date())}")
        return 0

    return _run(args, body)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cmd_subject_export(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    async def body(ctx: _Ctx) -> int:
        req = await _request(ctx, "export", args.number, args.received)
        calls = await subject_calls(ctx, args.number)
        items = []
        for call in calls:
            item = call.to_json()
            rec = call.recording
            src = Path(rec.path) if rec is not None and rec.path and rec.status != "deleted" else None
            if src is not None and src.is_file():
                if is_sealed(src):  # decrypted: the subject gets audio they can play
                    dest = out / f"{call.id}.wav"
                    await asyncio.to_thread(export_plain, ctx.hub, call, dest)
                else:
                    dest = out / f"{call.id}{src.suffix}"
                    await asyncio.to_thread(shutil.copy2, src, dest)
                item["export_file"] = dest.name
                item["export_sha256"] = await asyncio.to_thread(_sha256, dest)
            analysis = await ctx.store.analysis.get_result(call.id)
            if analysis is not None:  # what was derived from the recording, beside it (never instead)
                name = f"{call.id}.analysis.json"
                (out / name).write_text(json.dumps(analysis, indent=2, ensure_ascii=False) + "\n")
                item["export_analysis_file"] = name
            items.append(item)
            await ctx.audit("export", call_id=call.id, detail={"out": str(out)})
        core = ctx.config.get("salvesti", {})
        manifest = {
            "number": args.number,
            "exported_at": ctx.now_iso(),
            "purpose": core.get("purpose"),
            "analysis_purpose": (ctx.config.get("analysis") or {}).get("purpose"),
            "calls": items,
        }
        (out / "calls.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        (out / "README.txt").write_text(_EXPORT_README)
        await _close(ctx, "export", args.number, f"{len(items)} call(s) exported")
        print(f"{len(items)} call(s) of {args.number} exported to {out}")
        print(f"{_deadline_note(req, ctx.now().date())}; closed")
        return 0

    return _run(args, body)


_EXPORT_README = """Salvesti - andmesubjekti koopia / data subject copy

calls.json: every call of this number with its metadata (times, direction, duration, purpose,
retention).  <call id>.wav (or .flac/.opus): the full recording of both parties; left channel =
what the caller said, right channel = what the caller heard.  <call id>.analysis.json, where
the call was analysed: its transcript per party, talk metrics and the notice check (card numbers
are never transcribed).
"""


def cmd_subject_erase(args: argparse.Namespace) -> int:
    async def body(ctx: _Ctx) -> int:
        req = await _request(ctx, "erase", args.number, args.received)
        calls = await subject_calls(ctx, args.number)
        held = [c for c in calls if c.retention.legal_hold]
        todo = [c for c in calls if not c.retention.legal_hold]
        for c in held:
            print(f"kept (legal hold): {c.id}")
        if not args.yes:
            for c in todo:
                print(f"would erase: {c.id}")
            print(f"{len(todo)} call(s) would be erased; run again with --yes")
            print(f"{_deadline_note(req, ctx.now().date())}; still open")
            return 0
        number_hash = hashlib.sha256((args.number or "").encode()).hexdigest()
        cache = Path(ctx.hub.data_dir) / "cache" / "waveforms"
        for call in todo:
            removed = await delete_recording(ctx.hub, call) if call.recording is not None else False
            for cached in cache.glob(f"{call.id}-*.json"):
                cached.unlink()
            call.remote_number = None
            # through the edits, so that no user edit of the notes or tags survives the erasure
            await ctx.store.update_call_fields(call.id, notes="", tags=[])
            call.notes = ""
            call.tags = []
            call.meta["erased"] = {"at": ctx.now_iso(), "reason": "data subject erasure request"}
            if call.recording is not None:
                call.recording.status = "deleted"
            await ctx.store.save_call(call)
            await ctx.store.log_deletion(
                call, rule="erasure", reason="data subject erasure request", when=ctx.now()
            )
            await ctx.audit(
                "erase", call_id=call.id, detail={"number_sha256": number_hash, "file_removed": removed}
            )
            print(f"erased: {call.id}")
        print(f"{len(todo)} call(s) erased, {len(held)} kept under legal hold")
        outcome = f"{len(todo)} call(s) erased" + (f", {len(held)} kept under legal hold" if held else "")
        await _close(ctx, "erase", args.number, outcome)
        print(f"{_deadline_note(req, ctx.now().date())}; closed")
        return 1 if held else 0

    return _run(args, body, sinks=True)


# -- audit ----------------------------------------------------------------------------------------
def cmd_audit_verify(args: argparse.Namespace) -> int:
    async def body(ctx: _Ctx) -> int:
        result = await ctx.db.audit_verify()
        if result.ok:
            print(f"audit log OK: {result.entries} entries, chain intact")
            return 0
        print(f"audit log BROKEN at entry {result.first_bad}: {result.reason}", file=sys.stderr)
        return 1

    return _run(args, body)


def add_commands(subparsers: Any) -> None:
    from salvesti.cli_common import add_config_argument

    def parser(sub: Any, name: str, help_text: str, func: Callable[[argparse.Namespace], int]) -> Any:
        p = sub.add_parser(name, help=help_text)
        add_config_argument(p)
        p.set_defaults(func=func)
        return p

    users = subparsers.add_parser("users", help="web UI and API users").add_subparsers(
        dest="users_cmd", required=True
    )
    p = parser(users, "add", "add a user (password read from stdin)", cmd_users_add)
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=auth.ROLES)
    p.add_argument("--extension", help="an agent sees only calls of this extension")
    parser(users, "list", "list users", cmd_users_list)

    tokens = subparsers.add_parser("tokens", help="API tokens").add_subparsers(
        dest="tokens_cmd", required=True
    )
    p = parser(tokens, "create", "print a new bearer token for USER", cmd_tokens_create)
    p.add_argument("user")
    p.add_argument("--role", choices=auth.ROLES, help="at most the user's role (default: the user's role)")
    p.add_argument("--name", help="a label, e.g. 'crm'")
    parser(tokens, "list", "list tokens", cmd_tokens_list)
    p = parser(tokens, "revoke", "revoke a token by id", cmd_tokens_revoke)
    p.add_argument("id", type=int)

    subject = subparsers.add_parser("subject", help="GDPR data subject requests").add_subparsers(
        dest="subject_cmd", required=True
    )
    received = {
        "type": _received,
        "metavar": "YYYY-MM-DD",
        "help": "when the request arrived (default: today)",
    }
    p = parser(subject, "export", "copy every call and recording of NUMBER", cmd_subject_export)
    p.add_argument("number")
    p.add_argument("--out", required=True, help="folder to write to")
    p.add_argument("--received", **received)
    p = parser(subject, "erase", "erase NUMBER's recordings (lists them without --yes)", cmd_subject_erase)
    p.add_argument("number")
    p.add_argument("--yes", action="store_true", help="really erase")
    p.add_argument("--received", **received)
    p = parser(
        subject, "request", "log a request on arrival (open until export/erase ran)", cmd_subject_request
    )
    p.add_argument("kind", choices=subject_requests.KINDS)
    p.add_argument("number")
    p.add_argument("--received", **received)

    audit_p = subparsers.add_parser("audit", help="the audit log").add_subparsers(
        dest="audit_cmd", required=True
    )
    parser(audit_p, "verify", "check the audit log's hash chain", cmd_audit_verify)
