"""The LMTP state machine, sans I/O: bytes in, typed events out (RFC 2033).

Theory of operation
-------------------
`LmtpMachine` owns the input buffer and the session state. The service feeds it bytes
(`receive_data`) and pulls events (`next_event`) until `NeedData`:

- `Send(reply)`: write these bytes to the client, in order.
- `CheckRecipient(address)`: RCPT TO named an address; the service resolves it and answers
  with `recipient_checked(reply)` (a positive reply accepts the recipient).
- `Deliver(envelope)`: the message is complete (DATA's final dot or BDAT LAST); the
  service delivers and answers with `delivered(replies)`, one reply per accepted
  recipient in RCPT order (RFC 2033 §4.2), which the machine then sends.
- `StartTls()`: the 220 reply to STARTTLS has been queued before it; the service upgrades
  the transport and calls `tls_started()`.
- `Close()`: after QUIT's 221 or a fatal 421; the service closes the connection.

While a `CheckRecipient` or `Deliver` is unanswered the machine does not read further:
pipelined commands (RFC 2920) wait in the buffer and are answered in order afterwards.
Calling `next_event` before answering is a programming error (`LmtpUsageError`), the only
exception the machine raises; a fuzz test asserts that no input makes it raise another.

Framing. Command lines end at LF (a preceding CR is dropped) and may be at most
`Limits.max_line` octets; a longer line is discarded whole and answered 500 5.5.2. The
DATA body ends only at CRLF "." CRLF (RFC 5321 §4.1.1.4; a bare LF never ends it, which
keeps "SMTP smuggling" out), a leading dot is removed from every line (RFC 5321 §4.5.2),
and the body is not split into lines at all otherwise, so long lines cost nothing. A BDAT
chunk is exactly the announced number of octets after the command line (RFC 3030 §2).
A body over `Limits.max_message` is read and discarded, then refused with 552 5.3.4.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from buzon.lmtp import replies as r
from buzon.lmtp.address import Address, AddressError, parse_path_args
from buzon.lmtp.replies import Extension, Reply

MIB = 1024 * 1024


class LmtpUsageError(Exception):
    """The service called the machine out of turn (a bug, never the client's doing)."""


class BodyType(enum.Enum):
    """MAIL FROM's BODY parameter (RFC 6152 §2)."""

    SEVEN_BIT = "7BIT"
    EIGHT_BIT_MIME = "8BITMIME"


@dataclass(frozen=True, slots=True)
class Limits:
    # RFC 5321 §4.5.3.1.4 asks for at least 512 octets; parameters and SMTPUTF8 need more.
    max_line: int = 4096
    max_message: int = 64 * MIB
    # RFC 5321 §4.5.3.1.8: at least 100 recipients must be accepted.
    max_recipients: int = 1000
    max_errors: int = 20


@dataclass(frozen=True, slots=True)
class Envelope:
    """A complete message and its transaction."""

    lhlo: str
    sender: Address | None  # None: the null reverse-path <>
    recipients: tuple[Address, ...]
    content: bytes  # dot-unstuffed (DATA) or as sent (BDAT)
    body: BodyType | None
    smtputf8: bool
    secure: bool


@dataclass(frozen=True, slots=True)
class Send:
    reply: Reply


@dataclass(frozen=True, slots=True)
class CheckRecipient:
    address: Address


@dataclass(frozen=True, slots=True)
class Deliver:
    envelope: Envelope


@dataclass(frozen=True, slots=True)
class StartTls:
    pass


@dataclass(frozen=True, slots=True)
class Close:
    pass


@dataclass(frozen=True, slots=True)
class NeedData:
    pass


Event = Send | CheckRecipient | Deliver | StartTls | Close | NeedData


class _Phase(enum.Enum):
    COMMAND = "command"
    DATA = "data"
    BDAT = "bdat"
    RECIPIENT = "awaiting a recipient check"
    MESSAGE = "awaiting delivery"
    TLS = "awaiting the TLS handshake"
    CLOSED = "closed"


_UNIMPLEMENTED = frozenset({"VRFY", "EXPN", "HELP", "TURN", "ETRN", "SEND", "SOML", "SAML"})
_MAX_SIZE_DIGITS = 18


class LmtpMachine:
    """One LMTP session; see the module docstring for the event protocol."""

    def __init__(
        self, hostname: str, limits: Limits, *, tls_available: bool, secure: bool = False
    ) -> None:
        self.hostname = hostname
        self.limits = limits
        self.tls_available = tls_available
        self.secure = secure
        self.lhlo: str | None = None
        self.dropped = 0  # bytes discarded at STARTTLS (logged by the service)
        self._buf = bytearray()
        self._events: collections.deque[Event] = collections.deque([Send(r.greeting(hostname))])
        self._phase = _Phase.COMMAND
        self._skipping = False  # inside an over-long command line
        self._errors = 0
        # transaction
        self._sender: Address | None = None
        self._in_transaction = False
        self._recipients: list[Address] = []
        self._pending: Address | None = None
        self._body_type: BodyType | None = None
        self._smtputf8 = False
        self._content = bytearray()
        self._too_big = False
        self._bdat_used = False
        self._bdat_failed = False
        # body reading
        self._line_start = True
        self._bdat_left = 0
        self._bdat_size = 0
        self._bdat_last = False
        self._bdat_error: Reply | None = None

    # --- the service's side ----------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if self._phase in (_Phase.TLS, _Phase.CLOSED):
            return  # RFC 3207 §4.2: nothing sent before the handshake is kept
        self._buf += data

    def next_event(self) -> Event:
        while not self._events:
            if self._phase in (_Phase.RECIPIENT, _Phase.MESSAGE, _Phase.TLS):
                raise LmtpUsageError(f"next_event while {self._phase.value}")
            if self._phase is _Phase.CLOSED:
                return Close()
            if not self._step():
                return NeedData()
        return self._events.popleft()

    def recipient_checked(self, reply: Reply) -> None:
        """Answer a `CheckRecipient`: a positive reply adds the recipient."""
        if self._phase is not _Phase.RECIPIENT or self._pending is None:
            raise LmtpUsageError("no recipient check is pending")
        if reply.positive:
            self._recipients.append(self._pending)
        self._pending = None
        self._phase = _Phase.COMMAND
        self._send(reply)

    def delivered(self, outcomes: Sequence[Reply]) -> None:
        """Answer a `Deliver`: RFC 2033 §4.2, one reply per recipient, in RCPT order."""
        if self._phase is not _Phase.MESSAGE:
            raise LmtpUsageError("no delivery is pending")
        if len(outcomes) != len(self._recipients):
            raise LmtpUsageError(f"{len(outcomes)} replies for {len(self._recipients)} recipients")
        for outcome in outcomes:
            self._send(outcome)
        self._reset()
        self._phase = _Phase.COMMAND

    def tls_started(self) -> None:
        """RFC 3207 §4.2: after the handshake the session starts afresh (LHLO again)."""
        if self._phase is not _Phase.TLS:
            raise LmtpUsageError("STARTTLS was not accepted")
        self.secure = True
        self.lhlo = None
        self._reset()
        self._phase = _Phase.COMMAND

    def close(self, reply: Reply | None = None) -> None:
        """End the session (timeout, shutdown): queue `reply` if given, then `Close`."""
        if self._phase is _Phase.CLOSED:
            return
        if reply is not None:
            self._send(reply)
        self._events.append(Close())
        self._phase = _Phase.CLOSED
        self._buf.clear()

    # --- framing ---------------------------------------------------------------------------

    def _step(self) -> bool:
        """Consume one unit of input; False when more bytes are needed."""
        if self._phase is _Phase.DATA:
            return self._data_step()
        if self._phase is _Phase.BDAT:
            return self._bdat_step()
        buf = self._buf
        nl = buf.find(b"\n")
        if nl < 0:
            if len(buf) > self.limits.max_line:
                self._skipping = True
                buf.clear()
            return False
        line = bytes(buf[: nl + 1])
        del buf[: nl + 1]
        if self._skipping or len(line) > self.limits.max_line:
            self._skipping = False
            self._error(r.LINE_TOO_LONG)
            return True
        self._command(line[:-1].removesuffix(b"\r"))
        return True

    def _data_step(self) -> bool:
        buf = self._buf
        if self._line_start:
            if buf[:3] == b".\r\n":  # RFC 5321 §4.1.1.4: the end of mail data
                del buf[:3]
                self._finish_message()
                return True
            if len(buf) < 3 and b".\r\n".startswith(bytes(buf)):
                return False  # maybe the terminator, maybe not yet
            if buf[:1] == b".":
                del buf[:1]  # RFC 5321 §4.5.2: remove one leading dot
        end = buf.find(b"\r\n")
        if end < 0:
            # No line end yet: pass on all but a trailing CR that may start one.
            take = len(buf) - 1 if buf.endswith(b"\r") else len(buf)
            if take == 0:
                return False
            self._body(buf[:take])
            del buf[:take]
            self._line_start = False
            return False
        self._body(buf[: end + 2])
        del buf[: end + 2]
        self._line_start = True
        return True

    def _bdat_step(self) -> bool:
        if self._bdat_left and not self._buf:
            return False
        take = min(self._bdat_left, len(self._buf))
        if self._bdat_error is None:
            self._body(self._buf[:take])
        del self._buf[:take]
        self._bdat_left -= take
        if self._bdat_left:
            return False
        self._phase = _Phase.COMMAND
        self._end_chunk()
        return True

    def _body(self, data: bytes | bytearray) -> None:
        if self._too_big:
            return
        if len(self._content) + len(data) > self.limits.max_message:
            self._too_big = True
            self._content = bytearray()
            return
        self._content += data

    # --- commands --------------------------------------------------------------------------

    def _command(self, raw: bytes) -> None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._error(r.SYNTAX)
            return
        verb, _, args = line.partition(" ")
        verb = verb.upper()
        if self.lhlo is None and verb in {"MAIL", "RCPT", "DATA", "STARTTLS"}:
            self._error(r.NEED_LHLO)
            return
        match verb:
            case "LHLO":
                self._lhlo(args.strip())
            case "HELO" | "EHLO":
                self._error(r.USE_LHLO)  # RFC 2033 §4.1: LHLO replaces HELO and EHLO
            case "MAIL":
                self._mail(args)
            case "RCPT":
                self._rcpt(args)
            case "DATA":
                self._data(args)
            case "BDAT":
                self._bdat(args)
            case "RSET":
                self._reset()
                self._send(r.RESET)
            case "NOOP":
                self._send(r.OK)
            case "QUIT":
                self.close(r.BYE)
            case "STARTTLS":
                self._starttls(args)
            case _ if verb in _UNIMPLEMENTED:
                self._error(r.NOT_IMPLEMENTED)
            case _:
                self._error(r.UNKNOWN_COMMAND)

    def _lhlo(self, name: str) -> None:
        if not name or " " in name:
            self._error(r.BAD_ARGUMENTS)
            return
        # RFC 5321 §4.1.4: a (re)greeting clears the transaction, like RSET.
        self._reset()
        self.lhlo = name
        lines = [
            self.hostname,
            Extension.PIPELINING.value,
            Extension.ENHANCEDSTATUSCODES.value,
            Extension.EIGHTBITMIME.value,
            f"{Extension.SIZE.value} {self.limits.max_message}",
            Extension.CHUNKING.value,
            Extension.SMTPUTF8.value,
        ]
        if self.tls_available and not self.secure:
            lines.append(Extension.STARTTLS.value)
        self._send(Reply(250, "", tuple(lines)))

    def _mail(self, args: str) -> None:
        if self._in_transaction:
            self._error(r.NESTED_MAIL)
            return
        if args[:5].upper() != "FROM:":
            self._error(r.SYNTAX)
            return
        try:
            path = parse_path_args(args[5:], allow_null=True)
        except AddressError:
            self._error(r.SYNTAX)
            return
        body: BodyType | None = None
        smtputf8 = False
        for keyword, value in path.params:
            if keyword == "SIZE" and value is not None and value.isdigit():
                # RFC 1870 §6: refuse at MAIL a message declared bigger than the limit.
                if len(value) > _MAX_SIZE_DIGITS or int(value) > self.limits.max_message:
                    self._error(r.TOO_BIG)
                    return
            elif keyword == "BODY" and value is not None and value.upper() in {"7BIT", "8BITMIME"}:
                body = BodyType(value.upper())  # RFC 6152 §2
            elif keyword == "SMTPUTF8" and value is None:
                smtputf8 = True  # RFC 6531 §3.4
            elif keyword in {"SIZE", "BODY", "SMTPUTF8"}:
                self._error(r.BAD_ARGUMENTS)
                return
            else:
                self._error(r.UNKNOWN_PARAMETER)
                return
        if path.address is not None and not path.address.is_ascii and not smtputf8:
            self._error(r.NON_ASCII_SENDER)  # RFC 6531 §3.5
            return
        self._in_transaction = True
        self._sender = path.address
        self._body_type = body
        self._smtputf8 = smtputf8
        self._send(r.SENDER_OK)

    def _rcpt(self, args: str) -> None:
        if not self._in_transaction:
            self._error(r.NEED_MAIL)
            return
        if self._bdat_used:
            self._error(r.BDAT_FAILED)
            return
        if args[:3].upper() != "TO:":
            self._error(r.SYNTAX)
            return
        try:
            path = parse_path_args(args[3:], allow_null=False)
        except AddressError:
            self._error(r.SYNTAX)
            return
        if path.params:
            self._error(r.UNKNOWN_PARAMETER)
            return
        assert path.address is not None
        if not path.address.is_ascii and not self._smtputf8:
            self._error(r.NON_ASCII_RECIPIENT)  # RFC 6531 §3.5
            return
        if len(self._recipients) >= self.limits.max_recipients:
            self._send(r.TOO_MANY_RECIPIENTS)  # RFC 5321 §4.5.3.1.10
            return
        self._pending = path.address
        self._phase = _Phase.RECIPIENT
        self._events.append(CheckRecipient(path.address))

    def _data(self, args: str) -> None:
        if args.strip():
            self._error(r.SYNTAX)
        elif not self._in_transaction:
            self._error(r.NEED_MAIL)
        elif self._bdat_used:
            self._error(r.DATA_AFTER_BDAT)  # RFC 3030 §2
        elif not self._recipients:
            self._error(r.NEED_RCPT)  # RFC 2033 §4.2: DATA MUST fail with 503
        else:
            self._send(r.START_INPUT)
            self._phase = _Phase.DATA
            self._line_start = True

    def _bdat(self, args: str) -> None:
        words = args.split(" ")
        size_text = words[0]
        last = len(words) == 2 and words[1].upper() == "LAST"
        if (
            not size_text.isdigit()
            or len(size_text) > _MAX_SIZE_DIGITS
            or len(words) > 2
            or (len(words) == 2 and not last)
        ):
            # The chunk's length is unknown, so its octets will be read as commands.
            self._error(r.SYNTAX)
            return
        error: Reply | None = None
        if self.lhlo is None:
            error = r.NEED_LHLO
        elif not self._in_transaction:
            error = r.NEED_MAIL
        elif not self._recipients:
            error = r.NEED_RCPT
        elif self._bdat_failed:
            error = r.BDAT_FAILED  # RFC 3030 §2: after a failed chunk, RSET is needed
        if error is None:
            self._bdat_used = True
        # RFC 3030 §2: the chunk is read and discarded even when the command fails.
        self._bdat_error = error
        self._bdat_size = self._bdat_left = int(size_text)
        self._bdat_last = last
        self._phase = _Phase.BDAT

    def _end_chunk(self) -> None:
        if self._bdat_error is not None:
            error, self._bdat_error = self._bdat_error, None
            if self._in_transaction and self._bdat_used:
                self._bdat_failed = True
            self._error(error)
        elif self._bdat_last:
            self._finish_message()
        elif self._too_big:
            self._bdat_failed = True
            self._error(r.TOO_BIG)
        else:
            self._send(r.received(self._bdat_size))

    def _starttls(self, args: str) -> None:
        if args.strip():
            self._error(r.SYNTAX)
        elif not self.tls_available:
            self._error(r.NO_TLS)
        elif self.secure:
            self._error(r.ALREADY_TLS)
        else:
            self._send(r.READY_FOR_TLS)
            self._events.append(StartTls())
            self._phase = _Phase.TLS
            # RFC 3207 §4.2 / the STARTTLS injection: pipelined plaintext is discarded.
            self.dropped = len(self._buf)
            self._buf.clear()

    # --- helpers ---------------------------------------------------------------------------

    def _finish_message(self) -> None:
        if self._too_big:
            # RFC 2033 §4.2: the outcome of the message is given once per recipient.
            for _ in self._recipients:
                self._send(r.TOO_BIG)
            self._reset()
            self._phase = _Phase.COMMAND
            return
        self._phase = _Phase.MESSAGE
        self._events.append(
            Deliver(
                Envelope(
                    lhlo=self.lhlo or "",
                    sender=self._sender,
                    recipients=tuple(self._recipients),
                    content=bytes(self._content),
                    body=self._body_type,
                    smtputf8=self._smtputf8,
                    secure=self.secure,
                )
            )
        )

    def _reset(self) -> None:
        self._in_transaction = False
        self._sender = None
        self._recipients = []
        self._pending = None
        self._body_type = None
        self._smtputf8 = False
        self._content = bytearray()
        self._too_big = False
        self._bdat_used = False
        self._bdat_failed = False
        if self._phase is not _Phase.CLOSED:
            self._phase = _Phase.COMMAND

    def _send(self, reply: Reply) -> None:
        self._events.append(Send(reply))

    def _error(self, reply: Reply) -> None:
        self._send(reply)
        self._errors += 1
        if self._errors >= self.limits.max_errors:
            self.close(r.TOO_MANY_ERRORS)
