"""The `import`, `export` and `migrate` subcommands: arguments and their runners."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from buzon.cli import migrate as mig
from buzon.cli.progress import Progress
from buzon.cli.transfer import (
    ImportOptions,
    TransferError,
    export_account,
    import_path,
    source_size,
)
from buzon.config import Settings
from buzon.server.stores import open_store
from buzon.storage.api import StorageError
from buzon.storage.sqlite.store import SqliteStore

EXIT_OK = 0
EXIT_FAILURE = 1
COMMANDS = frozenset({"import", "export", "migrate"})


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    imp = commands.add_parser("import", help="import an mbox file or a Maildir tree")
    imp.add_argument("user")
    imp.add_argument("path", type=Path)
    imp.add_argument("--mailbox", metavar="NAME", help="target mailbox (default INBOX)")
    imp.add_argument(
        "--batch-size", type=int, default=500, metavar="N", help="messages per transaction"
    )
    common(imp)

    exp = commands.add_parser("export", help="export mail as mbox files or a Maildir tree")
    exp.add_argument("user")
    exp.add_argument("path", type=Path)
    exp.add_argument("--format", choices=("mbox", "maildir"), required=True)
    exp.add_argument("--mailbox", metavar="NAME", help="export only this mailbox")
    common(exp)

    mig_p = commands.add_parser("migrate", help="copy an account from another IMAP server")
    mig_p.add_argument("user")
    mig_p.add_argument(
        "--from", dest="source", required=True, metavar="URL", help="imaps://login@host[:port]"
    )
    mig_p.add_argument("--ca-file", metavar="FILE", help="trust this CA (or self-signed cert)")
    mig_p.add_argument(
        "--insecure", action="store_true", help="do not verify the source's certificate"
    )
    common(mig_p)


def _password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password at the source: ")
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    store = await open_store(settings)
    if isinstance(store, SqliteStore) and args.command in ("import", "migrate"):
        store.parse_in_processes(os.cpu_count() or 1)  # parsing is most of a bulk import
    status = EXIT_OK
    try:
        if args.command == "import":
            progress = Progress("imported", total_bytes=source_size(args.path))
            options = ImportOptions(mailbox=args.mailbox, batch_messages=max(1, args.batch_size))
            await import_path(store, args.user, args.path, options, progress)
        elif args.command == "export":
            progress = Progress("exported")
            await export_account(
                store, args.user, args.path, fmt=args.format, name=args.mailbox, progress=progress
            )
        else:
            source = mig.Source.parse(args.source)
            context = mig.tls_context(args.ca_file, args.insecure)
            progress = Progress("migrated")
            failed = await mig.migrate(
                store, args.user, source, password=_password(), context=context, progress=progress
            )
            status = EXIT_FAILURE if failed else EXIT_OK
        print(progress.finish())
    finally:
        await store.close()
    return status


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of COMMANDS; problems with the source or target are exit code 1."""
    try:
        return asyncio.run(_run(args, settings))
    except (TransferError, OSError, StorageError, ValueError) as exc:
        print(f"buzon: {exc}", file=sys.stderr)
        return EXIT_FAILURE
