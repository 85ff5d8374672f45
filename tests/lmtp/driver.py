"""Drives an `LmtpMachine` without I/O: bytes in, the server's bytes and the envelopes out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from buzon.lmtp import replies as r
from buzon.lmtp.address import Address
from buzon.lmtp.protocol import (
    CheckRecipient,
    Close,
    Deliver,
    Envelope,
    Limits,
    LmtpMachine,
    NeedData,
    Send,
    StartTls,
)
from buzon.lmtp.replies import Reply

GREETING = b"220 lmtp.test LMTP Buzon ready\r\n"
LHLO_REPLY = (
    b"250-lmtp.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
    b"250-SIZE 1000\r\n250-CHUNKING\r\n250-SMTPUTF8\r\n"
)


def known_users(address: Address) -> Reply:
    return r.RECIPIENT_OK if address.local in {"alice", "bob", "carol"} else r.NO_SUCH_USER


def deliver_all(envelope: Envelope) -> list[Reply]:
    return [r.DELIVERED for _ in envelope.recipients]


@dataclass
class Run:
    output: bytearray = field(default_factory=bytearray)
    envelopes: list[Envelope] = field(default_factory=list)
    closed: bool = False
    tls_started: int = 0


def drive(
    chunks: Iterable[bytes],
    *,
    limits: Limits | None = None,
    tls: bool = False,
    check: Callable[[Address], Reply] = known_users,
    outcome: Callable[[Envelope], list[Reply]] = deliver_all,
) -> Run:
    """Feed each chunk and pull events until the machine needs more data."""
    machine = LmtpMachine(
        "lmtp.test", limits or Limits(max_message=1000, max_recipients=3), tls_available=tls
    )
    run = Run()
    for chunk in [b"", *chunks]:
        machine.receive_data(chunk)
        while True:
            event = machine.next_event()
            match event:
                case Send(reply):
                    run.output += reply.encode()
                case CheckRecipient(address):
                    machine.recipient_checked(check(address))
                case Deliver(envelope):
                    run.envelopes.append(envelope)
                    machine.delivered(outcome(envelope))
                case StartTls():
                    run.tls_started += 1
                    machine.tls_started()
                case Close():
                    run.closed = True
                    return run
                case NeedData():
                    break
    return run


def whole(data: bytes, **kwargs: object) -> Run:
    return drive([data], **kwargs)  # type: ignore[arg-type]


def bytewise(data: bytes, **kwargs: object) -> Run:
    return drive([data[i : i + 1] for i in range(len(data))], **kwargs)  # type: ignore[arg-type]
