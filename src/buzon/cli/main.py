"""The `buzon` command: serve, and manage users.

Every subcommand accepts `--config` and `--data-dir` after its name, so that
`buzon user add alice --data-dir d --password-stdin` works as written in the README.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from buzon import __version__
from buzon.auth import InvalidPasswordError, make_credentials
from buzon.cli import deliver, index_cmd, quota, transfer_cli
from buzon.config import ConfigError, Settings, load_settings
from buzon.server.stores import argon2_parameters, open_store
from buzon.storage.api import StorageError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.add_argument("--data-dir", type=Path, help="data directory (default ./buzon-data)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="buzon", description="Buzón, an IMAP mail server.")
    parser.add_argument("--version", action="version", version=f"buzon {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve_p = commands.add_parser("serve", help="run the IMAP service")
    _common(serve_p)
    serve_p.add_argument(
        "--listen",
        action="append",
        metavar="ADDR",
        help="address to listen on (repeatable; default 127.0.0.1)",
    )
    serve_p.add_argument(
        "--imap-port",
        type=int,
        metavar="N",
        help="IMAP port with STARTTLS (default 1143; 0 disables)",
    )
    serve_p.add_argument(
        "--imaps-port",
        type=int,
        metavar="N",
        help="IMAP over implicit TLS (default 1993; 0 disables)",
    )
    serve_p.add_argument(
        "--pop3-port",
        type=int,
        metavar="N",
        help="POP3 port with STLS (default 0: disabled; e.g. 1110)",
    )
    serve_p.add_argument(
        "--pop3s-port",
        type=int,
        metavar="N",
        help="POP3 over implicit TLS (default 0: disabled; e.g. 1995)",
    )
    serve_p.add_argument(
        "--lmtp-port", type=int, metavar="N", help="LMTP on 127.0.0.1 (default 2424; 0 disables)"
    )
    serve_p.add_argument(
        "--lmtp-socket", type=Path, metavar="PATH", help="LMTP on this Unix socket too"
    )
    serve_p.add_argument(
        "--demo",
        action="store_true",
        help="create user demo (password demo) with sample mail, once",
    )
    serve_p.add_argument(
        "--debug", action="store_true", help="log a protocol trace (passwords masked)"
    )

    user_p = commands.add_parser("user", help="manage users")
    user_cmds = user_p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add_p = user_cmds.add_parser("add", help="create a user with the default mailboxes")
    passwd_p = user_cmds.add_parser("passwd", help="set a user's password")
    for sub in (add_p, passwd_p):
        sub.add_argument("name")
        sub.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )
        _common(sub)
    del_p = user_cmds.add_parser("del", help="delete a user and all of its mail")
    del_p.add_argument("name")
    _common(del_p)
    list_p = user_cmds.add_parser("list", help="list users")
    _common(list_p)
    _common(quota.add_parser(user_cmds))
    transfer_cli.add_parsers(commands, _common)
    deliver.add_parser(commands)
    index_cmd.add_parser(commands, _common)
    _common(commands.choices["deliver"])
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    server: dict[str, object] = {}
    if args.data_dir is not None:
        server["data_dir"] = str(args.data_dir)
    for option in ("listen", "imap_port", "imaps_port", "pop3_port", "pop3s_port"):
        value = getattr(args, option, None)
        if value is not None:
            server[option] = value
    if getattr(args, "debug", False):
        server["debug"] = True
    lmtp: dict[str, object] = {}
    if getattr(args, "lmtp_port", None) is not None:
        lmtp["port"] = args.lmtp_port
    if getattr(args, "lmtp_socket", None) is not None:
        lmtp["socket"] = str(args.lmtp_socket)
    overrides = {name: values for name, values in (("server", server), ("lmtp", lmtp)) if values}
    return load_settings(args.config, overrides=overrides or None)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password again: ")
    if first != second:
        raise InvalidPasswordError("the passwords do not match")
    return first


async def _user_action(args: argparse.Namespace, settings: Settings, secret: str | None) -> int:
    store = await open_store(settings)
    try:
        name: str = getattr(args, "name", "")
        match args.user_command:
            case "add":
                assert secret is not None
                await store.create_user(name, secret)
                print(f"created user {name}")
            case "passwd":
                assert secret is not None
                await store.set_user_secret(name, secret)
                print(f"password changed for {name}")
            case "del":
                await store.delete_user(name)
                print(f"deleted user {name}")
            case "quota":
                await quota.quota_action(store, args)
            case _:
                for user in await store.list_users():
                    print(user)
    finally:
        await store.close()
    return EXIT_OK


def _user(args: argparse.Namespace, settings: Settings) -> int:
    secret = None
    if args.user_command in {"add", "passwd"}:
        password = _read_password(args)
        secret = make_credentials(password, argon2_params=argon2_parameters(settings)).to_secret()
    return asyncio.run(_user_action(args, settings, secret))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"buzon: {exc}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.DEBUG if settings.server.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "serve":
            # Imported only to serve: `buzon deliver`, which an MTA runs for every
            # message, would otherwise pay for importing the whole IMAP service (~1 s).
            from buzon.cli import serve_cmd  # noqa: PLC0415

            serve_cmd.run(args, settings)
            return EXIT_OK
        if args.command in transfer_cli.COMMANDS:
            return transfer_cli.run(args, settings)
        if args.command == "deliver":
            return deliver.run(args, settings)
        if args.command == "index":
            return index_cmd.run(args, settings)
        return _user(args, settings)
    except (StorageError, InvalidPasswordError) as exc:
        print(f"buzon: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
