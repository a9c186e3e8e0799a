"""`conformance serve`: run the reference server, clean or with one planted fault.

It prints one line, ``serving on http://HOST:PORT``, once it accepts connections (scripts wait for it), and
stops cleanly on SIGTERM or Ctrl-C. Bad input (unknown fault, bad keys, port in use) is one line on stderr
and exit status 2.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from conformance.checker.options import OPTIONS
from conformance.reference.app import start_server
from conformance.reference.faults import FAULTS
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY, Keys

PARTNER_KEY_HEADERS = ("x-api-key", "partner_key")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` subcommand to the ``conformance`` command."""
    parser = subparsers.add_parser(
        "serve",
        help="run the bundled reference server (clean, or with a planted fault)",
        description="Run the bundled reference implementation of the Partner WebHooks API. With no keys "
        "given it uses (and prints) the demo keys.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on; 0 picks a free one (8080)")
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=":memory:",
        help="SQLite file that keeps the records across restarts (default: in memory)",
    )
    parser.add_argument("--fault", metavar="NAME", help="plant one fault (see --list-faults)")
    parser.add_argument("--keys", metavar="FILE", type=Path, help="TOML keys file (partner and developer keys)")
    parser.add_argument(
        "--partner-key", metavar="KEY", action="append", default=[], help="accept this partner key (repeatable)"
    )
    parser.add_argument(
        "--developer-key",
        metavar="KEY=COMPANY",
        action="append",
        default=[],
        help="accept this developer key, of this company (repeatable)",
    )
    parser.add_argument(
        "--partner-key-header",
        choices=PARTNER_KEY_HEADERS,
        default="x-api-key",
        help="the header that carries the partner key (default: x-api-key)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--reject-oversize-early",
        action="store_true",
        help="answer 413 to a body over 1 MiB before reading it, and close the connection at once",
    )
    parser.add_argument("--list-faults", action="store_true", help="list the plantable faults and exit")
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    """Run the server until SIGTERM or SIGINT; the process exit status."""
    if args.list_faults:
        print(fault_table())
        return 0
    try:
        keys = keys_from(args)
        server = start_server(
            args.host,
            args.port,
            db=args.db,
            keys=keys,
            fault=args.fault,
            partner_key_header=args.partner_key_header,
            access_log=args.access_log,
            reject_oversize_early=args.reject_oversize_early,
        )
    except (ValueError, OSError) as error:
        print(f"conformance serve: {error}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if keys is None:
            print(demo_keys_text(args.partner_key_header, server.base_url))
        if args.fault:
            print(f"planted fault: {args.fault}")
        print(f"serving on {server.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def keys_from(args: argparse.Namespace) -> Keys | None:
    """The keys given by ``--keys`` and the key flags (flags add to the file); None for the demo keys."""
    if args.keys is None and not args.partner_key and not args.developer_key:
        return None
    partner_keys: set[str] = set()
    developer_keys: dict[str, str] = {}
    if args.keys is not None:
        from_file = Keys.from_file(args.keys)
        partner_keys |= from_file.partner_keys
        developer_keys |= from_file.developer_keys
    partner_keys |= {key for key in args.partner_key if key}
    for item in args.developer_key:
        key, _, company = item.partition("=")
        if not key or not company:
            raise ValueError(f"--developer-key wants KEY=COMPANY, got {item!r}")
        developer_keys[key] = company
    if not partner_keys or not developer_keys:
        raise ValueError("give at least one --partner-key and one --developer-key KEY=COMPANY (or --keys FILE)")
    return Keys(frozenset(partner_keys), developer_keys)


def demo_keys_text(partner_key_header: str, base_url: str) -> str:
    """The demo keys, printed at start (a local demo server: they are meant to be seen), and the `export` lines
    that point `conformance run` at this server with them."""
    demo = Keys.demo()
    lines = ["demo keys (local demo server):"]
    lines += [f"  partner key ({partner_key_header}): {key}" for key in sorted(demo.partner_keys)]
    lines += [
        f"  developer key (Authorization): {key} -> company {company}" for key, company in demo.developer_keys.items()
    ]
    values = {
        "base_url": base_url,
        "partner_key": DEMO_PARTNER_KEY,
        "developer_key": DEMO_DEVELOPER_KEY,
        "second_developer_key": DEMO_SECOND_DEVELOPER_KEY,
    }
    if partner_key_header != "x-api-key":
        values["partner_key_header"] = partner_key_header
    lines.append("to check it, paste into your shell:")
    lines += [f"  export {OPTIONS[name].variable}={shlex.quote(value)}" for name, value in values.items()]
    return "\n".join(lines)


def fault_table() -> str:
    """The fault catalogue as an aligned table: name, the requirement IDs it breaks, description."""
    rows = [("FAULT", "BREAKS", "DESCRIPTION")]
    rows += [(item.name, " ".join(item.breaks), item.description) for item in FAULTS]
    name_width = max(len(row[0]) for row in rows)
    breaks_width = max(len(row[1]) for row in rows)
    return "\n".join(f"{name:<{name_width}}  {breaks:<{breaks_width}}  {text}" for name, breaks, text in rows)
