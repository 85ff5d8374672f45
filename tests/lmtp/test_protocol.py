"""The LMTP state machine: tables fed whole, one byte at a time and with trailing data."""

from __future__ import annotations

import pytest

from buzon.lmtp import replies as r
from buzon.lmtp.address import Address
from buzon.lmtp.protocol import (
    CheckRecipient,
    Deliver,
    Envelope,
    Limits,
    LmtpMachine,
    LmtpUsageError,
    NeedData,
    Send,
)
from buzon.lmtp.replies import Reply
from tests.lmtp.driver import GREETING, LHLO_REPLY, Run, bytewise, drive, whole

HELLO = b"LHLO client.test\r\n"
HELLO_OUT = GREETING + LHLO_REPLY.removesuffix(b"250-SMTPUTF8\r\n") + b"250 SMTPUTF8\r\n"
MAIL = b"MAIL FROM:<sender@example.org>\r\n"
MAIL_OK = b"250 2.1.0 Sender OK\r\n"
RCPT_OK = b"250 2.1.5 Recipient OK\r\n"
NO_USER = b"550 5.1.1 No such user here\r\n"
GO = b"354 Start mail input; end with <CRLF>.<CRLF>\r\n"
DONE = b"250 2.0.0 Delivered\r\n"

# (name, input after LHLO, the server's output after its LHLO reply)
CASES: list[tuple[str, bytes, bytes]] = [
    ("noop", b"NOOP\r\n", b"250 2.0.0 OK\r\n"),
    ("noop lower case with argument", b"noop hello\r\n", b"250 2.0.0 OK\r\n"),
    ("unknown command", b"FROB\r\n", b"500 5.5.1 Unknown command\r\n"),
    ("vrfy is not implemented", b"VRFY alice\r\n", b"502 5.5.1 Command not implemented\r\n"),
    ("ehlo is not lmtp", b"EHLO x\r\n", b"500 5.5.1 This is LMTP: use LHLO\r\n"),
    ("rcpt before mail", b"RCPT TO:<alice@x>\r\n", b"503 5.5.1 Send MAIL first\r\n"),
    ("data before mail", b"DATA\r\n", b"503 5.5.1 Send MAIL first\r\n"),
    ("data without recipients", MAIL + b"DATA\r\n", MAIL_OK + b"503 5.5.1 No valid recipients\r\n"),
    (
        "data when every recipient was refused",
        MAIL + b"RCPT TO:<nobody@x>\r\nDATA\r\n",
        MAIL_OK + NO_USER + b"503 5.5.1 No valid recipients\r\n",
    ),
    ("nested mail", MAIL + MAIL, MAIL_OK + b"503 5.5.1 Sender already given\r\n"),
    ("mail without colon", b"MAIL FROM <a@b>\r\n", b"501 5.5.2 Syntax error\r\n"),
    ("mail without brackets", b"MAIL FROM:a@b\r\n", b"501 5.5.2 Syntax error\r\n"),
    ("mail with a space after the colon", b"MAIL FROM: <a@b>\r\n", MAIL_OK),
    ("null sender", b"MAIL FROM:<>\r\n", MAIL_OK),
    ("source route is ignored", b"MAIL FROM:<@relay.test:a@b>\r\n", MAIL_OK),
    ("body 8bitmime", b"MAIL FROM:<a@b> BODY=8BITMIME\r\n", MAIL_OK),
    ("bad body", b"MAIL FROM:<a@b> BODY=9BIT\r\n", b"501 5.5.4 Invalid command arguments\r\n"),
    ("size within the limit", b"MAIL FROM:<a@b> SIZE=1000\r\n", MAIL_OK),
    ("size over the limit", b"MAIL FROM:<a@b> SIZE=1001\r\n", b"552 5.3.4 Message too big\r\n"),
    ("unknown parameter", b"MAIL FROM:<a@b> RET=FULL\r\n", b"555 5.5.4 Unsupported parameter\r\n"),
    (
        "non-ascii sender without smtputf8",
        "MAIL FROM:<josé@b>\r\n".encode(),
        b"550 5.6.7 Non-ASCII address needs SMTPUTF8\r\n",
    ),
    ("non-ascii sender with smtputf8", "MAIL FROM:<josé@b> SMTPUTF8\r\n".encode(), MAIL_OK),
    (
        "non-ascii recipient without smtputf8",
        MAIL + "RCPT TO:<jösé@x>\r\n".encode(),
        MAIL_OK + b"553 5.6.7 Non-ASCII address needs SMTPUTF8\r\n",
    ),
    ("null recipient", MAIL + b"RCPT TO:<>\r\n", MAIL_OK + b"501 5.5.2 Syntax error\r\n"),
    (
        "rcpt parameter",
        MAIL + b"RCPT TO:<alice@x> NOTIFY=NEVER\r\n",
        MAIL_OK + b"555 5.5.4 Unsupported parameter\r\n",
    ),
    ("quoted local part", MAIL + b'RCPT TO:<"alice"@x>\r\n', MAIL_OK + RCPT_OK),
    (
        "too many recipients",
        MAIL + b"RCPT TO:<alice@x>\r\nRCPT TO:<bob@x>\r\nRCPT TO:<carol@x>\r\nRCPT TO:<bob@y>\r\n",
        MAIL_OK + RCPT_OK * 3 + b"452 4.5.3 Too many recipients\r\n",
    ),
    (
        "rset",
        MAIL + b"RSET\r\nRCPT TO:<alice@x>\r\n",
        MAIL_OK + b"250 2.0.0 Reset\r\n" + b"503 5.5.1 Send MAIL first\r\n",
    ),
    (
        "line too long",
        b"NOOP " + b"x" * 5000 + b"\r\nNOOP\r\n",
        b"500 5.5.2 Line too long\r\n250 2.0.0 OK\r\n",
    ),
    ("not utf-8", b"NOOP \xff\r\n", b"501 5.5.2 Syntax error\r\n"),
    ("bare LF ends a command line", b"NOOP\nNOOP\r\n", b"250 2.0.0 OK\r\n" * 2),
    ("starttls not offered", b"STARTTLS\r\n", b"502 5.5.1 STARTTLS not available\r\n"),
    (
        "pipelined transaction, one reply per recipient in rcpt order",
        MAIL
        + b"RCPT TO:<bob@x>\r\nRCPT TO:<nobody@x>\r\nRCPT TO:<alice@x>\r\n"
        + b"DATA\r\nhi\r\n.\r\nNOOP\r\n",
        MAIL_OK + RCPT_OK + NO_USER + RCPT_OK + GO + DONE * 2 + b"250 2.0.0 OK\r\n",
    ),
    (
        "message too big: read to the end, refused per recipient",
        MAIL
        + b"RCPT TO:<bob@x>\r\nRCPT TO:<alice@x>\r\nDATA\r\n"
        + b"y" * 1200
        + b"\r\n.\r\nNOOP\r\n",
        MAIL_OK + RCPT_OK * 2 + GO + b"552 5.3.4 Message too big\r\n" * 2 + b"250 2.0.0 OK\r\n",
    ),
    (
        "bdat chunks",
        MAIL + b"RCPT TO:<bob@x>\r\nBDAT 7\r\nhello\r\nBDAT 6 LAST\r\n world",
        MAIL_OK + RCPT_OK + b"250 2.0.0 7 octets received\r\n" + DONE,
    ),
    (
        "bdat 0 last",
        MAIL + b"RCPT TO:<bob@x>\r\nRCPT TO:<alice@x>\r\nBDAT 3\r\nabcBDAT 0 LAST\r\n",
        MAIL_OK + RCPT_OK * 2 + b"250 2.0.0 3 octets received\r\n" + DONE * 2,
    ),
    (
        "bdat without recipients: the chunk is still consumed",
        MAIL + b"BDAT 6\r\nNOOP\r\nNOOP\r\n",
        MAIL_OK + b"503 5.5.1 No valid recipients\r\n" + b"250 2.0.0 OK\r\n",
    ),
    ("bdat bad size", b"BDAT x\r\nNOOP\r\n", b"501 5.5.2 Syntax error\r\n250 2.0.0 OK\r\n"),
    ("bdat bad keyword", b"BDAT 1 FIRST\r\n", b"501 5.5.2 Syntax error\r\n"),
    (
        "data after bdat",
        MAIL + b"RCPT TO:<bob@x>\r\nBDAT 1\r\naDATA\r\n",
        MAIL_OK
        + RCPT_OK
        + b"250 2.0.0 1 octets received\r\n"
        + b"503 5.5.1 DATA and BDAT cannot be mixed\r\n",
    ),
    (
        "bdat too big fails the transaction until rset",
        MAIL + b"RCPT TO:<bob@x>\r\nBDAT 1001\r\n" + b"z" * 1001 + b"BDAT 1 LAST\r\nzRSET\r\n",
        MAIL_OK
        + RCPT_OK
        + b"552 5.3.4 Message too big\r\n"
        + b"503 5.5.1 Transaction failed: send RSET\r\n"
        + b"250 2.0.0 Reset\r\n",
    ),
    ("quit", b"QUIT\r\nNOOP\r\n", b"221 2.0.0 Bye\r\n"),
]


@pytest.mark.parametrize(("name", "data", "expected"), CASES, ids=[c[0] for c in CASES])
def test_table_whole_and_bytewise(name: str, data: bytes, expected: bytes) -> None:
    for run in (whole(HELLO + data), bytewise(HELLO + data)):
        assert bytes(run.output) == HELLO_OUT + expected, name


def test_trailing_data_waits_for_its_line_end() -> None:
    run = whole(HELLO + b"NOOP\r\nNOO")
    assert bytes(run.output) == HELLO_OUT + b"250 2.0.0 OK\r\n"
    assert not run.closed


def test_commands_before_lhlo_are_refused() -> None:
    data = b"MAIL FROM:<a@b>\r\nRCPT TO:<alice@x>\r\nDATA\r\nNOOP\r\nRSET\r\nBDAT 2\r\nxyQUIT\r\n"
    need = b"503 5.5.1 Send LHLO first\r\n"
    expected = GREETING + need * 3 + b"250 2.0.0 OK\r\n250 2.0.0 Reset\r\n" + need
    expected += b"221 2.0.0 Bye\r\n"
    assert bytes(whole(data).output) == expected
    assert bytes(bytewise(data).output) == expected


def test_lhlo_needs_a_name() -> None:
    assert bytes(whole(b"LHLO\r\n").output) == GREETING + b"501 5.5.4 Invalid command arguments\r\n"


@pytest.mark.parametrize(
    ("body", "content"),
    [
        (b"a\r\n.\r\n", b"a\r\n"),
        (b".\r\n", b""),
        (b"..\r\n.\r\n", b".\r\n"),
        (b"..x\r\n.y\r\n.\r\n", b".x\r\ny\r\n"),
        # RFC 5321 §4.1.1.4: only CRLF.CRLF ends the data; LF.LF and CR.CR are content.
        (b"a\n.\nb\r\n.\r\n", b"a\n.\nb\r\n"),
        (b"a\r\n.\nb\r\n.\r\n", b"a\r\n\nb\r\n"),
        (b"a\r.\rb\r\n.\r\n", b"a\r.\rb\r\n"),
        (b"x" * 700 + b"\r\n.\r\n", b"x" * 700 + b"\r\n"),
        (b"\xff\x00bin\r\n.\r\n", b"\xff\x00bin\r\n"),
    ],
)
def test_dot_unstuffing_and_the_terminator(body: bytes, content: bytes) -> None:
    data = HELLO + MAIL + b"RCPT TO:<alice@x>\r\nDATA\r\n" + body + b"NOOP\r\n"
    for run in (whole(data), bytewise(data)):
        assert [e.content for e in run.envelopes] == [content]
        assert run.output.endswith(GO + DONE + b"250 2.0.0 OK\r\n")


def test_envelope_carries_the_transaction() -> None:
    data = (
        HELLO
        + "MAIL FROM:<josé@example.org> SMTPUTF8 BODY=8BITMIME\r\n".encode()
        + b"RCPT TO:<carol@x>\r\nRCPT TO:<alice@x>\r\nDATA\r\nhi\r\n.\r\n"
    )
    (envelope,) = whole(data).envelopes
    assert envelope == Envelope(
        lhlo="client.test",
        sender=Address("josé", "example.org"),
        recipients=(Address("carol", "x"), Address("alice", "x")),
        content=b"hi\r\n",
        body=envelope.body,
        smtputf8=True,
        secure=False,
    )
    assert envelope.body is not None
    assert envelope.body.value == "8BITMIME"


def test_per_recipient_outcomes_are_sent_in_order() -> None:
    def outcome(envelope: Envelope) -> list[Reply]:
        return [r.DELIVERED, r.OVER_QUOTA, r.TEMPORARY][: len(envelope.recipients)]

    data = HELLO + MAIL + b"RCPT TO:<alice@x>\r\nRCPT TO:<bob@x>\r\nRCPT TO:<carol@x>\r\n"
    data += b"DATA\r\nx\r\n.\r\n"
    run = whole(data, outcome=outcome)
    assert run.output.endswith(
        GO + b"250 2.0.0 Delivered\r\n552 5.2.2 Mailbox full\r\n"
        b"451 4.3.0 Temporary failure, try again later\r\n"
    )


def test_a_new_transaction_after_delivery() -> None:
    one = MAIL + b"RCPT TO:<alice@x>\r\nDATA\r\none\r\n.\r\n"
    two = b"MAIL FROM:<>\r\nRCPT TO:<bob@x>\r\nBDAT 3 LAST\r\ntwo"
    run = whole(HELLO + one + two)
    assert [(e.sender, e.recipients, e.content) for e in run.envelopes] == [
        (Address("sender", "example.org"), (Address("alice", "x"),), b"one\r\n"),
        (None, (Address("bob", "x"),), b"two"),
    ]


def test_starttls_drops_pipelined_plaintext_and_needs_lhlo_again() -> None:
    data = HELLO + b"STARTTLS\r\nMAIL FROM:<injected@x>\r\n"
    run = drive([data, b"MAIL FROM:<a@b>\r\n", b"LHLO again\r\nNOOP\r\n"], tls=True)
    out = bytes(run.output)
    assert run.tls_started == 1
    assert b"250 STARTTLS\r\n" in out
    after = out.split(b"220 2.0.0 Ready to start TLS\r\n", 1)[1]
    # The injected MAIL was dropped; the one after the handshake needs LHLO first.
    assert after.startswith(b"503 5.5.1 Send LHLO first\r\n250-lmtp.test\r\n")
    assert b"STARTTLS" not in after  # not offered again once secure
    assert after.endswith(b"250 2.0.0 OK\r\n")


def test_too_many_errors_close_the_connection() -> None:
    run = whole(b"FROB\r\n" * 25)
    assert run.closed
    assert bytes(run.output).endswith(
        b"500 5.5.1 Unknown command\r\n421 4.7.0 Too many errors, closing connection\r\n"
    )
    assert bytes(run.output).count(b"500 5.5.1") == 20


def test_answer_before_next_event_is_enforced() -> None:
    machine = LmtpMachine("h", Limits(), tls_available=False)
    machine.receive_data(HELLO + MAIL + b"RCPT TO:<a@b>\r\nNOOP\r\n")
    events = []
    while not isinstance(event := machine.next_event(), CheckRecipient):
        events.append(event)
    assert all(isinstance(e, Send) for e in events)
    with pytest.raises(LmtpUsageError):
        machine.next_event()
    with pytest.raises(LmtpUsageError):
        machine.delivered([])
    machine.recipient_checked(r.RECIPIENT_OK)
    assert machine.next_event() == Send(r.RECIPIENT_OK)
    assert machine.next_event() == Send(r.OK)
    assert isinstance(machine.next_event(), NeedData)


def test_delivered_needs_one_reply_per_recipient() -> None:
    machine = LmtpMachine("h", Limits(), tls_available=False)
    machine.receive_data(HELLO + MAIL + b"RCPT TO:<a@b>\r\nDATA\r\nx\r\n.\r\n")
    while not isinstance(event := machine.next_event(), Deliver):
        if isinstance(event, CheckRecipient):
            machine.recipient_checked(r.RECIPIENT_OK)
    with pytest.raises(LmtpUsageError):
        machine.delivered([r.DELIVERED, r.DELIVERED])
    machine.delivered([r.DELIVERED])


def test_reply_encoding() -> None:
    assert Reply(250, "", ("a", "b")).encode() == b"250-a\r\n250 b\r\n"
    assert r.NO_SUCH_USER.encode() == b"550 5.1.1 No such user here\r\n"


def test_run_type_is_used() -> None:
    assert isinstance(whole(b""), Run)
