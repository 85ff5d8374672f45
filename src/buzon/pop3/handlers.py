"""POP3 command handlers: AUTHORIZATION (RFC 1939 §7, RFC 5034, RFC 2595), TRANSACTION and
UPDATE (RFC 1939 §§5-6), and CAPA (RFC 2449 §5).

Each handler writes its reply through the connection or raises `Err`, which the service
turns into ``-ERR [code] text``. `dispatch` is the one map from command type to handler: a
`match`, so the type checker sees every case. Which command is valid in which state is
decided before, by `protocol.STATES`.

Authentication reuses the IMAP side's rules through `buzon.auth`: `Authenticator.verify`
for passwords, the SASL mechanisms of `auth.sasl` and `auth.scram` (PLAIN, LOGIN,
SCRAM-SHA-256 and, under TLS, SCRAM-SHA-256-PLUS with tls-server-end-point channel binding:
RFC 7677, RFC 5929), the `FailureThrottle` delays, and the connection closed after
`MAX_FAILURES_PER_CONNECTION` failures. A password may cross the connection only under TLS,
on loopback, or when `auth.allow_plaintext` is set; otherwise CAPA offers neither USER nor
PLAIN/LOGIN and they answer ``-ERR [AUTH]``. SCRAM never sends the password, so it is
offered on every connection. APOP is not offered: it needs the plaintext password on the
server, and we store only hashes.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import TYPE_CHECKING, NoReturn

from buzon.auth import (
    MAX_FAILURES_PER_CONNECTION,
    Failure,
    MechanismName,
    SaslAborted,
    ScramSha256Mechanism,
    Verify,
    new_mechanism,
    run_exchange,
)
from buzon.pop3.maildrop import Maildrop, dot_stuff, top_of
from buzon.pop3.protocol import (
    Auth,
    Capa,
    Command,
    Dele,
    List,
    Noop,
    Pass,
    Quit,
    Retr,
    Rset,
    Stat,
    State,
    Stls,
    Top,
    Uidl,
    User,
)
from buzon.pop3.replies import Err, RespCode, ok_line
from buzon.storage.api import INBOX, FlagOp, MetaItem, NotFound, StorageError, Temporary

if TYPE_CHECKING:
    from buzon.pop3.service import Pop3Connection

log = logging.getLogger("buzon.pop3")

# Mechanisms that send the password: offered only where plaintext is allowed.
MECHANISMS: tuple[MechanismName, ...] = (MechanismName.PLAIN, MechanismName.LOGIN)
_SEEN = "\\Seen"
_DELETED = "\\Deleted"


async def dispatch(conn: Pop3Connection, command: Command) -> None:
    """Run the handler of `command` (its state has been checked)."""
    match command:
        case Capa():
            await handle_capa(conn)
        case Stls():
            await handle_stls(conn)
        case User():
            await handle_user(conn, command)
        case Pass():
            await handle_pass(conn, command)
        case Auth():
            await handle_auth(conn, command)
        case Quit():
            await handle_quit(conn)
        case Stat():
            await handle_stat(conn)
        case List():
            await handle_list(conn, command)
        case Uidl():
            await handle_uidl(conn, command)
        case Retr():
            await handle_retr(conn, command)
        case Top():
            await handle_top(conn, command)
        case Dele():
            await handle_dele(conn, command)
        case Rset():
            await handle_rset(conn)
        case Noop():
            await conn.send(ok_line())


# --- capabilities ------------------------------------------------------------------------


def plaintext_allowed(conn: Pop3Connection) -> bool:
    """Whether USER/PASS and the plaintext SASL mechanisms may be used on this connection."""
    return conn.secure or conn.loopback or conn.ctx.settings.auth.allow_plaintext


def channel_bindings(conn: Pop3Connection) -> dict[str, bytes]:
    """RFC 5929 channel-binding data of this connection (empty without TLS)."""
    end_point = conn.ctx.tls_server_end_point
    if not conn.secure or end_point is None:
        return {}
    return {"tls-server-end-point": end_point}


def mechanisms(conn: Pop3Connection) -> list[MechanismName]:
    """The SASL mechanisms offered on this connection, strongest first (as IMAP does)."""
    # RFC 7677: SCRAM never sends the password, so it needs no TLS; -PLUS needs TLS.
    offered = [MechanismName.SCRAM_SHA_256]
    if channel_bindings(conn):
        offered.append(MechanismName.SCRAM_SHA_256_PLUS)
    if plaintext_allowed(conn):
        offered.extend(MECHANISMS)
    return offered


def capabilities(conn: Pop3Connection) -> list[str]:
    """RFC 2449 §6 capability lines for this connection and state."""
    caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]
    if conn.state is State.AUTHORIZATION and not conn.secure and conn.ctx.tls is not None:
        caps.append("STLS")  # RFC 2595 §4
    # RFC 2449 §6.2-6.3: USER and SASL are announced alike in both states.
    if plaintext_allowed(conn):
        caps.append("USER")
    caps.append("SASL " + " ".join(mechanisms(conn)))
    return caps


async def handle_capa(conn: Pop3Connection) -> None:
    """RFC 2449 §5."""
    body = "".join(f"{cap}\r\n" for cap in capabilities(conn)).encode()
    await conn.send_multiline(ok_line("Capability list follows"), body)


# --- AUTHORIZATION -----------------------------------------------------------------------


async def handle_stls(conn: Pop3Connection) -> None:
    """RFC 2595 §4: "+OK", then the handshake; bytes the client sent before it are dropped."""
    if conn.secure:
        raise Err("Command not permitted when TLS active")
    if conn.ctx.tls is None:
        raise Err("TLS is not available on this server")
    await conn.send(ok_line("Begin TLS negotiation now"))
    conn.pending_user = None
    await conn.start_tls(conn.ctx.tls)


def _require_privacy(conn: Pop3Connection) -> None:
    if not plaintext_allowed(conn):
        raise Err(
            "Plaintext authentication is disallowed on non-secure connections; use STLS",
            RespCode.AUTH,
        )


async def handle_user(conn: Pop3Connection, cmd: User) -> None:
    """RFC 1939 §7 USER; the name is checked only with the password, so that USER does not
    tell which names exist."""
    _require_privacy(conn)
    conn.pending_user = cmd.name
    await conn.send(ok_line())


async def handle_pass(conn: Pop3Connection, cmd: Pass) -> None:
    """RFC 1939 §7 PASS, after USER."""
    _require_privacy(conn)
    user, conn.pending_user = conn.pending_user, None
    if user is None:
        raise Err("No user name given; send USER first")
    await _log_in(conn, user, cmd.password, "USER/PASS")


async def handle_auth(conn: Pop3Connection, cmd: Auth) -> None:
    """RFC 5034 §4 AUTH with an optional initial response; RFC 1734 clients send no
    mechanism to list them (a widespread practice, answered as Dovecot does)."""
    conn.pending_user = None
    if cmd.mechanism is None:
        body = "".join(f"{name}\r\n" for name in mechanisms(conn)).encode()
        await conn.send_multiline(ok_line(), body)
        return
    mech = new_mechanism(cmd.mechanism, channel_bindings=channel_bindings(conn))
    if mech is None:
        raise Err("Unsupported authentication mechanism")
    if not isinstance(mech, ScramSha256Mechanism):
        _require_privacy(conn)
    how = f"AUTH {mech.name}"

    async def ask(data: bytes) -> bytes:
        # RFC 5034 §4: "+" SP base64 challenge.
        await conn.send(b"+ " + base64.b64encode(data) + b"\r\n")
        return await conn.read_line()

    try:
        outcome = await run_exchange(mech, cmd.initial, ask, conn.ctx.authenticator)
    except SaslAborted as exc:
        # RFC 5034 §4: a cancelled ("*") or malformed exchange is answered -ERR.
        raise Err(str(exc)) from None
    if isinstance(outcome, Failure):
        await _fail(conn, outcome.reason, how)
    if isinstance(outcome, Verify):
        await _log_in(conn, outcome.authcid, outcome.password, how)
        return
    await _accept(conn, outcome.authcid, how)


async def _log_in(conn: Pop3Connection, user: str, password: str, how: str) -> None:
    if not await conn.ctx.authenticator.verify(user, password):
        await _fail(conn, f"wrong password or unknown user {user!r}", how)
    await _accept(conn, user, how)


async def _fail(conn: Pop3Connection, reason: str, how: str) -> NoReturn:
    """Delay, count, log and refuse; after too many failures close the connection."""
    conn.auth_failures += 1
    throttle = conn.ctx.throttle
    throttle.record_failure(conn.address)
    log.warning("session=%s peer=%s POP3 %s failed: %s", conn.session_id, conn.peer, how, reason)
    delay = throttle.delay_for(conn.address, conn.auth_failures)
    if delay > 0:
        await asyncio.sleep(delay)
    if conn.auth_failures >= MAX_FAILURES_PER_CONNECTION:
        conn.close_after = True
    # RFC 3206 §5: AUTH says the credentials were the problem.
    raise Err("Authentication failed", RespCode.AUTH)


async def _accept(conn: Pop3Connection, user: str, how: str) -> None:
    """Open the INBOX and take the session's snapshot of it (RFC 1939 §4)."""
    conn.ctx.throttle.record_success(conn.address)
    if not conn.claim_user_slot(user):
        # RFC 2449 §8.1.2: authenticated, but the maildrop cannot be had now.
        raise Err("Too many connections for this user", RespCode.IN_USE)
    try:
        account = await conn.ctx.store.open_account(user)
        mailbox = await account.open_mailbox(INBOX)
        snapshot = await mailbox.snapshot(claim_recent=False)
        metas = await mailbox.fetch_meta(snapshot.uids, frozenset({MetaItem.SIZE}))
    except NotFound:
        conn.release_user_slot()
        raise Err("Authentication failed", RespCode.AUTH) from None
    except StorageError:
        conn.release_user_slot()
        log.exception("session=%s user=%s cannot open the INBOX", conn.session_id, user)
        raise Err("Cannot open the maildrop, try later", RespCode.SYS_TEMP) from None
    # Messages expunged between the two reads are simply not in the list.
    drop = Maildrop.of(snapshot.uidvalidity, ((m.uid, m.size or 0) for m in metas))
    conn.user = user
    conn.mailbox = mailbox
    conn.maildrop = drop
    conn.state = State.TRANSACTION
    log.info(
        "session=%s user=%s peer=%s POP3 logged in (%s%s)",
        conn.session_id,
        user,
        conn.peer,
        how,
        ", TLS" if conn.secure else "",
    )
    count, octets = drop.stat()
    await conn.send(ok_line(f"Logged in, {count} messages ({octets} octets)"))


# --- TRANSACTION -------------------------------------------------------------------------


def _drop(conn: Pop3Connection) -> Maildrop:
    assert conn.maildrop is not None, "TRANSACTION without a maildrop"
    return conn.maildrop


def _entry(drop: Maildrop, msg: int) -> tuple[int, int]:
    entry = drop.get(msg)
    if entry is None:
        raise Err("Message already deleted" if msg in drop.deleted else "No such message")
    return entry.msg, entry.size


async def handle_stat(conn: Pop3Connection) -> None:
    """RFC 1939 §5 STAT: "+OK count octets" of the messages not marked deleted."""
    count, octets = _drop(conn).stat()
    await conn.send(ok_line(f"{count} {octets}"))


async def handle_list(conn: Pop3Connection, cmd: List) -> None:
    """RFC 1939 §5 LIST: one scan listing, or all of them in a multi-line reply."""
    drop = _drop(conn)
    if cmd.msg is not None:
        msg, size = _entry(drop, cmd.msg)
        await conn.send(ok_line(f"{msg} {size}"))
        return
    count, octets = drop.stat()
    body = "".join(f"{e.msg} {e.size}\r\n" for e in drop.live()).encode()
    await conn.send_multiline(ok_line(f"{count} messages ({octets} octets)"), body)


async def handle_uidl(conn: Pop3Connection, cmd: Uidl) -> None:
    """RFC 1939 §7 UIDL: see `maildrop.uidl` for the format."""
    drop = _drop(conn)
    if cmd.msg is not None:
        msg, _ = _entry(drop, cmd.msg)
        await conn.send(ok_line(f"{msg} {drop.uidl(drop.entries[msg - 1])}"))
        return
    body = "".join(f"{e.msg} {drop.uidl(e)}\r\n" for e in drop.live()).encode()
    await conn.send_multiline(ok_line(), body)


async def _read(conn: Pop3Connection, msg: int) -> tuple[int, bytes]:
    drop = _drop(conn)
    number, size = _entry(drop, msg)
    assert conn.mailbox is not None
    try:
        data = await conn.mailbox.read_message(drop.entries[number - 1].uid)
    except NotFound:
        # Expunged by another session (IMAP, or a concurrent POP3 QUIT) after our snapshot.
        raise Err("Message was removed by another session") from None
    return size, data


async def handle_retr(conn: Pop3Connection, cmd: Retr) -> None:
    """RFC 1939 §5 RETR: the whole message, dot-stuffed; it will be flagged \\Seen."""
    size, data = await _read(conn, cmd.msg)
    _drop(conn).retrieved.add(_drop(conn).entries[cmd.msg - 1].uid)
    await conn.send_multiline(ok_line(f"{size} octets"), dot_stuff(data))


async def handle_top(conn: Pop3Connection, cmd: Top) -> None:
    """RFC 1939 §7 TOP: header, blank line, the first n body lines; no \\Seen."""
    _, data = await _read(conn, cmd.msg)
    await conn.send_multiline(ok_line(), dot_stuff(top_of(data, cmd.lines)))


async def handle_dele(conn: Pop3Connection, cmd: Dele) -> None:
    """RFC 1939 §5 DELE: mark only; the message goes at QUIT (UPDATE state)."""
    drop = _drop(conn)
    msg, _ = _entry(drop, cmd.msg)
    drop.mark(msg)
    await conn.send(ok_line(f"Message {msg} deleted"))


async def handle_rset(conn: Pop3Connection) -> None:
    """RFC 1939 §5 RSET: unmark every message."""
    drop = _drop(conn)
    drop.reset()
    count, octets = drop.stat()
    await conn.send(ok_line(f"{count} messages ({octets} octets)"))


# --- QUIT and UPDATE ---------------------------------------------------------------------


async def handle_quit(conn: Pop3Connection) -> None:
    """RFC 1939 §6: in TRANSACTION, QUIT enters UPDATE and removes the marked messages."""
    conn.close_after = True
    if conn.state is State.AUTHORIZATION:
        await conn.send(ok_line("Bye"))
        return
    conn.state = State.UPDATE
    drop = _drop(conn)
    mailbox = conn.mailbox
    assert mailbox is not None
    victims = drop.deleted_uids()
    try:
        await _flag_seen(conn)
        if victims:
            # Exactly the marked UIDs: messages an IMAP client flagged \Deleted stay its own.
            await mailbox.store_flags(victims, FlagOp.ADD, frozenset({_DELETED}))
            await mailbox.expunge(victims)
    except StorageError as exc:
        log.warning("session=%s user=%s POP3 UPDATE failed: %s", conn.session_id, conn.user, exc)
        code = RespCode.SYS_TEMP if isinstance(exc, Temporary) else RespCode.SYS_PERM
        # RFC 1939 §6: "-ERR some deleted messages not removed".
        raise Err("Some deleted messages were not removed", code) from None
    left = len(drop.entries) - len(victims)
    await conn.send(ok_line(f"Bye, {left} messages left" if left else "Bye, maildrop empty"))


async def _flag_seen(conn: Pop3Connection) -> None:
    """Flag \\Seen the messages sent whole with RETR, as Dovecot does by default."""
    drop = conn.maildrop
    mailbox = conn.mailbox
    if drop is None or mailbox is None:
        return
    seen = drop.seen_uids()
    drop.retrieved.clear()
    if seen:
        await mailbox.store_flags(seen, FlagOp.ADD, frozenset({_SEEN}))


async def finish(conn: Pop3Connection) -> None:
    """Session end without QUIT: nothing is deleted, retrieved messages become \\Seen."""
    try:
        await _flag_seen(conn)
    except Exception:
        log.exception("session=%s user=%s POP3 \\Seen update failed", conn.session_id, conn.user)
