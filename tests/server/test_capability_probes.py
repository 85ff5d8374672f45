"""Every advertised capability is backed by a working feature (issue 6).

For each connection state the server distinguishes (not authenticated on loopback, over
TLS, from a remote address without TLS; authenticated) the test reads the capability list
and requires, for every word in it, a probe in `PROBES`: a short conversation that proves
the extension works (MOVE moves a message, IDLE idles, AUTH=X authenticates with X, ...).
A capability without a probe fails `test_every_advertised_capability_has_a_probe`; a probe
that fails, or whose capability is not advertised in a state the table names, fails
`test_probe`. Probes run on one server, each on fresh connections and fresh mailboxes.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.server.fixtures import message
from tests.server.harness import PASSWORD, ServerThread, server_settings
from tests.server.probing import AUTH, PLAIN, REMOTE, STATES, TLS, Imap, World, has, scram

# --- the probes, one per capability ---------------------------------------------------


def p_imap4rev1(s: Imap) -> None:
    s.authed()
    name = s.fresh(2)
    lines = s.ok(f"SELECT {name}")
    assert b"* 2 EXISTS" in lines
    assert has(s.ok("FETCH 1:2 (UID FLAGS)"), rb"^\* 2 FETCH \(UID 2 FLAGS")


def p_imap4rev2(s: Imap) -> None:
    s.authed()
    assert s.ok("ENABLE IMAP4rev2") == [b"* ENABLED IMAP4rev2"]
    name = s.fresh(2)
    assert not has(s.ok(f"SELECT {name}"), rb"RECENT")  # RFC 9051: no \Recent
    assert has(s.ok("SEARCH ALL"), rb'^\* ESEARCH \(TAG "t\d+"\) ALL 1:2$')


def p_literal_plus(s: Imap) -> None:
    s.client.send(b't1lp ID ("name" {5+}\r\nprobe)\r\n')
    assert s.until("t1lp")[-1].startswith(b"t1lp OK ")


def p_sasl_ir(s: Imap) -> None:
    # Without SASL-IR the server would answer "+ " (an empty challenge), not server-first.
    scram(s.anonymous(), "SCRAM-SHA-256")


def p_id(s: Imap) -> None:
    assert has(s.ok('ID ("name" "probe")'), rb'^\* ID \("name" "Buzon"')


def p_enable(s: Imap) -> None:
    s.authed()
    assert s.ok("ENABLE CONDSTORE X-NONE") == [b"* ENABLED CONDSTORE"]


def p_starttls(s: Imap) -> None:
    s.ok("STARTTLS")
    s.client.wrap_tls(s.world.server.client_tls_context())
    assert "STARTTLS" not in s.caps()
    s.ok(f"LOGIN alice {PASSWORD}")


def p_scram(s: Imap) -> None:
    scram(s.anonymous(), "SCRAM-SHA-256")


def p_scram_plus(s: Imap) -> None:
    pem = (s.world.server.settings.server.data_dir / "tls" / "cert.pem").read_bytes()
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    scram(s, "SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,", hashlib.sha256(der).digest())


def p_auth_plain(s: Imap) -> None:
    s.client.send(b"t1ap AUTHENTICATE PLAIN\r\n")
    assert s.client.line() == b"+ "
    s.client.send(base64.b64encode(f"\0alice\0{PASSWORD}".encode()) + b"\r\n")
    assert s.until("t1ap")[-1].startswith(b"t1ap OK ")


def p_auth_login(s: Imap) -> None:
    s.client.send(b"t1al AUTHENTICATE LOGIN\r\n")
    assert s.client.line().startswith(b"+ ")
    s.client.send(base64.b64encode(b"alice") + b"\r\n")
    assert s.client.line().startswith(b"+ ")
    s.client.send(base64.b64encode(PASSWORD.encode()) + b"\r\n")
    assert s.until("t1al")[-1].startswith(b"t1al OK ")


def p_logindisabled(s: Imap) -> None:
    answer = s.cmd(f"LOGIN alice {PASSWORD}")[-1]
    assert re.match(rb"t\d+ NO \[PRIVACYREQUIRED\]", answer), answer


def p_namespace(s: Imap) -> None:
    assert has(s.authed().ok("NAMESPACE"), rb'^\* NAMESPACE \(\(""')


def p_children(s: Imap) -> None:
    name = s.world.name()
    s.authed().ok(f"CREATE {name}/child")
    assert has(s.ok(f'LIST "" {name}'), rb"\\HasChildren")


def p_special_use(s: Imap) -> None:
    assert has(s.authed().ok('LIST "" "*" RETURN (SPECIAL-USE)'), rb"\\Trash")


def p_create_special_use(s: Imap) -> None:
    name = s.world.name()
    s.authed().ok(f"CREATE {name} (USE (\\Important))")
    assert has(s.ok(f'LIST "" {name} RETURN (SPECIAL-USE)'), rb"\\Important")


def p_status_size(s: Imap) -> None:
    name = s.fresh(1)
    size = len(message(1, "Probe 1"))
    assert has(s.ok(f"STATUS {name} (SIZE)"), rf"\(SIZE {size}\)".encode())


def p_idle(s: Imap) -> None:
    s.authed().ok("SELECT INBOX")
    s.client.send(b"t1i IDLE\r\n")
    assert s.client.line() == b"+ idling"
    s.client.send(b"DONE\r\n")
    assert s.until("t1i")[-1].startswith(b"t1i OK ")


def p_compress(s: Imap) -> None:
    s.authed().ok("COMPRESS DEFLATE")
    deflater, inflater = zlib.compressobj(6, zlib.DEFLATED, -15), zlib.decompressobj(-15)
    s.client.send(deflater.compress(b"c1 NOOP\r\n") + deflater.flush(zlib.Z_SYNC_FLUSH))
    got = b""
    while not got.endswith(b"\r\n"):
        got += inflater.decompress(s.client.sock.recv(65536))
    assert got == b"c1 OK NOOP completed\r\n"


def p_unselect(s: Imap) -> None:
    name = s.fresh(1)
    s.ok(f"SELECT {name}")
    s.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    s.ok("UNSELECT")
    assert re.match(rb"t\d+ BAD", s.cmd("FETCH 1 FLAGS")[-1])
    assert has(s.ok(f"STATUS {name} (MESSAGES)"), rb"MESSAGES 1")  # not expunged


def p_unauthenticate(s: Imap) -> None:
    s.authed().ok("UNAUTHENTICATE")
    assert re.match(rb"t\d+ BAD", s.cmd('LIST "" "*"')[-1])
    s.authenticated = False
    s.authed()


def p_uidplus(s: Imap) -> None:
    name = s.fresh(0)
    lines = s.append(name, message(1, "Probe"))
    assert re.search(rb"OK \[APPENDUID \d+ 1\]", lines[-1]), lines
    s.ok(f"SELECT {name}")
    s.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    assert s.ok("UID EXPUNGE 1") == [b"* 1 EXPUNGE"]


def p_move(s: Imap) -> None:
    source, target = s.fresh(1), s.fresh(0)
    s.ok(f"SELECT {source}")
    lines = s.ok(f"MOVE 1 {target}")
    assert has(lines, rb"^\* OK \[COPYUID \d+ 1 1\]")
    assert b"* 1 EXPUNGE" in lines
    assert has(s.ok(f"STATUS {target} (MESSAGES)"), rb"MESSAGES 1")


def p_multiappend(s: Imap) -> None:
    name = s.fresh(0)
    one, two = message(1, "One"), message(2, "Two")
    lines = s.literal_command(
        [f"APPEND {name} {{{len(one)}}}".encode(), one + f" {{{len(two)}}}".encode(), two]
    )
    assert re.search(rb"OK \[APPENDUID \d+ 1:2\]", lines[-1]), lines


def p_binary(s: Imap) -> None:
    name = s.fresh(1)
    s.ok(f"SELECT {name}")
    lines = s.ok("FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])")
    assert has(lines, rb"BINARY.SIZE\[1\] 8 BINARY\[1\]")


def p_utf8_accept(s: Imap) -> None:
    s.authed()
    assert s.ok("ENABLE UTF8=ACCEPT") == [b"* ENABLED UTF8=ACCEPT"]
    name = f"Ñandú-{s.world.name()}".encode()
    s.ok(b'CREATE "' + name + b'"')
    assert has(s.ok(b'LIST "" "' + name + b'"'), re.escape(name))


def p_condstore(s: Imap) -> None:
    name = s.fresh(1)
    assert has(s.ok(f"SELECT {name} (CONDSTORE)"), rb"\[HIGHESTMODSEQ \d+\]")
    assert has(s.ok("FETCH 1 (MODSEQ)"), rb"MODSEQ \(\d+\)")


def p_qresync(s: Imap) -> None:
    s.authed()
    assert s.ok("ENABLE QRESYNC") == [b"* ENABLED QRESYNC"]
    name = s.fresh(2)
    s.ok(f"SELECT {name}")
    s.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    assert b"* VANISHED 1" in s.ok("EXPUNGE")


def p_list_extended(s: Imap) -> None:
    assert has(s.authed().ok('LIST (SUBSCRIBED) "" "*"'), rb"\\Subscribed")


def p_list_status(s: Imap) -> None:
    name = s.fresh(2)
    lines = s.ok(f'LIST "" {name} RETURN (STATUS (MESSAGES))')
    assert has(lines, rf"^\* STATUS {name} \(MESSAGES 2\)".encode())


def p_xlist(s: Imap) -> None:
    assert has(s.authed().ok('XLIST "" "*"'), rb"^\* XLIST .*\\Trash")


def p_metadata(s: Imap) -> None:
    s.authed().ok('SETMETADATA INBOX (/private/comment "probe")')
    assert has(s.ok("GETMETADATA INBOX /private/comment"), rb'"probe"')


def p_metadata_server(s: Imap) -> None:
    s.authed().ok('SETMETADATA "" (/private/comment "server probe")')
    assert has(s.ok('GETMETADATA "" /private/comment'), rb'"server probe"')


def p_quota(s: Imap) -> None:
    assert has(s.authed().ok("GETQUOTAROOT INBOX"), rb'^\* QUOTAROOT INBOX ""')


def _quota_resource(word: bytes) -> Callable[[Imap], None]:
    def probe(s: Imap) -> None:
        assert has(s.authed().ok('GETQUOTA ""'), rb"[( ]" + word + rb" \d+ \d+")

    return probe


def p_quotaset(s: Imap) -> None:
    carol = s.world.connect(AUTH, user="carol")
    lines = carol.ok('SETQUOTA "" (STORAGE 123456)')
    assert has(lines, rb'^\* QUOTA "" \(STORAGE \d+ 123456\)')


def p_esearch(s: Imap) -> None:
    name = s.fresh(3)
    s.ok(f"SELECT {name}")
    assert has(s.ok("SEARCH RETURN (COUNT) ALL"), rb'^\* ESEARCH \(TAG "t\d+"\) COUNT 3$')


def p_searchres(s: Imap) -> None:
    name = s.fresh(3)
    s.ok(f"SELECT {name}")
    s.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    s.ok("SEARCH RETURN (SAVE) FLAGGED")
    assert s.ok("FETCH $ (UID)") == [b"* 2 FETCH (UID 2)"]


def p_partial(s: Imap) -> None:
    name = s.fresh(3)
    s.ok(f"SELECT {name}")
    assert has(s.ok("SEARCH RETURN (PARTIAL 1:2) ALL"), rb"PARTIAL \(1:2 1:2\)")


def p_sort(s: Imap) -> None:
    name = s.fresh(3)
    s.ok(f"SELECT {name}")
    assert s.ok("SORT (REVERSE SUBJECT) UTF-8 ALL") == [b"* SORT 3 2 1"]


def p_sort_display(s: Imap) -> None:
    name = s.fresh(2)
    s.ok(f"SELECT {name}")
    assert has(s.ok("SORT (DISPLAYFROM) UTF-8 ALL"), rb"^\* SORT [12] [12]$")


def _thread(algorithm: str) -> Callable[[Imap], None]:
    def probe(s: Imap) -> None:
        name = s.fresh(2)
        s.ok(f"SELECT {name}")
        assert s.ok(f"THREAD {algorithm} UTF-8 ALL") == [b"* THREAD (1)(2)"]

    return probe


def p_within(s: Imap) -> None:
    name = s.fresh(2)  # internal dates in 2020
    s.ok(f"SELECT {name}")
    assert s.ok("SEARCH OLDER 3600") == [b"* SEARCH 1 2"]
    assert s.ok("SEARCH YOUNGER 3600") == [b"* SEARCH"]


def p_notify(s: Imap) -> None:
    name = s.fresh(1)
    s.ok(f"SELECT {name}")
    s.ok("NOTIFY SET (selected (MessageNew (UID) MessageExpunge))")
    other = s.world.connect(AUTH)
    other.append(name, message(2, "Pushed"))
    assert s.client.line() == b"* 2 EXISTS"  # unsolicited: no command was sent


def p_appendlimit(s: Imap) -> None:
    word = next(c for c in s.authed().caps() if c.startswith("APPENDLIMIT="))
    limit = int(word.split("=", 1)[1])
    answer = s.cmd(f"APPEND INBOX {{{limit + 1}}}")[-1]
    assert b"[TOOBIG]" in answer, answer


def p_uidonly(s: Imap) -> None:
    s.authed()
    assert s.ok("ENABLE UIDONLY") == [b"* ENABLED UIDONLY"]
    name = s.fresh(1)
    s.ok(f"SELECT {name}")
    assert b"[UIDREQUIRED]" in s.cmd("FETCH 1 (FLAGS)")[-1]
    assert has(s.ok("UID FETCH 1 (FLAGS)"), rb"^\* 1 UIDFETCH \(FLAGS")


def p_multisearch(s: Imap) -> None:
    name = s.fresh(2)
    lines = s.ok(f"ESEARCH IN (mailboxes {name}) ALL")
    assert has(
        lines, rf"^\* ESEARCH \(TAG \"t\d+\" MAILBOX {name} UIDVALIDITY \d+\) UID ALL 1:2".encode()
    )


def p_esort(s: Imap) -> None:
    name = s.fresh(3)
    s.ok(f"SELECT {name}")
    lines = s.ok("SORT RETURN (MIN COUNT) (REVERSE SUBJECT) UTF-8 ALL")
    assert has(lines, rb'^\* ESEARCH \(TAG "t\d+"\) MIN 3 COUNT 3$')


def p_objectid(s: Imap) -> None:
    name = s.fresh(1)
    assert has(s.ok(f"STATUS {name} (MAILBOXID)"), rb"MAILBOXID \([\w-]+\)")
    s.ok(f"SELECT {name}")
    assert has(s.ok("FETCH 1 (EMAILID THREADID)"), rb"EMAILID \([\w-]+\)")


def p_savedate(s: Imap) -> None:
    name = s.fresh(1)
    s.ok(f"SELECT {name}")
    assert has(s.ok("FETCH 1 (SAVEDATE)"), rb'SAVEDATE "')


def p_preview(s: Imap) -> None:
    name = s.fresh(1)
    s.ok(f"SELECT {name}")
    assert has(s.ok("FETCH 1 (PREVIEW)"), rb'PREVIEW "Hello\."')


def p_replace(s: Imap) -> None:
    name = s.fresh(1)
    s.ok(f"SELECT {name}")
    data = message(9, "Replacement")
    lines = s.literal_command([f"REPLACE 1 {name} {{{len(data)}}}".encode(), data])
    assert re.match(rb"t\d+ OK", lines[-1]), lines
    assert has(lines, rb"APPENDUID \d+ 2")
    assert b"* 1 EXPUNGE" in lines


def p_catenate(s: Imap) -> None:
    name = s.fresh(1)
    text = b"\r\nCatenated body\r\n"
    url = f"/{name}/;UID=1/;SECTION=HEADER"
    command = f'APPEND {name} CATENATE (URL "{url}" TEXT {{{len(text)}}}'
    lines = s.literal_command([command.encode(), text + b")"])
    assert re.search(rb"OK \[APPENDUID \d+ 2\]", lines[-1]), lines
    s.ok(f"SELECT {name}")
    assert has(s.ok("FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), rb"FETCH")


def p_urlauth(s: Imap) -> None:
    name = s.fresh(1)
    status = b"".join(s.ok(f"STATUS {name} (UIDVALIDITY)"))
    match = re.search(rb"UIDVALIDITY (\d+)", status)
    assert match is not None
    url = f"imap://alice@localhost/{name};UIDVALIDITY={match[1].decode()}/;UID=1;URLAUTH=user+alice"
    lines = s.ok(f'GENURLAUTH "{url}" INTERNAL')
    found = re.search(rb'^\* GENURLAUTH "?([^" ]+)"?$', lines[0])
    assert found is not None, lines
    assert has(s.ok(b'URLFETCH "' + found[1] + b'"'), rb"^\* URLFETCH ")


@dataclass(frozen=True, slots=True)
class Probe:
    states: tuple[str, ...]
    run: Callable[[Imap], None]


_UNAUTH = (PLAIN, TLS, REMOTE)
_EVERYWHERE = (*_UNAUTH, AUTH)

PROBES: dict[str, Probe] = {
    "IMAP4rev1": Probe(_EVERYWHERE, p_imap4rev1),
    "IMAP4rev2": Probe(_EVERYWHERE, p_imap4rev2),
    "LITERAL+": Probe(_EVERYWHERE, p_literal_plus),
    "SASL-IR": Probe(_EVERYWHERE, p_sasl_ir),
    "ID": Probe(_EVERYWHERE, p_id),
    "ENABLE": Probe(_EVERYWHERE, p_enable),
    "STARTTLS": Probe((PLAIN, REMOTE), p_starttls),
    "AUTH=SCRAM-SHA-256": Probe(_UNAUTH, p_scram),
    "AUTH=SCRAM-SHA-256-PLUS": Probe((TLS,), p_scram_plus),
    "AUTH=PLAIN": Probe((PLAIN, TLS), p_auth_plain),
    "AUTH=LOGIN": Probe((PLAIN, TLS), p_auth_login),
    "LOGINDISABLED": Probe((REMOTE,), p_logindisabled),
    "NAMESPACE": Probe((AUTH,), p_namespace),
    "CHILDREN": Probe((AUTH,), p_children),
    "SPECIAL-USE": Probe((AUTH,), p_special_use),
    "CREATE-SPECIAL-USE": Probe((AUTH,), p_create_special_use),
    "STATUS=SIZE": Probe((AUTH,), p_status_size),
    "IDLE": Probe((AUTH,), p_idle),
    "COMPRESS=DEFLATE": Probe((AUTH,), p_compress),
    "UNSELECT": Probe((AUTH,), p_unselect),
    "UNAUTHENTICATE": Probe((AUTH,), p_unauthenticate),
    "UIDPLUS": Probe((AUTH,), p_uidplus),
    "MOVE": Probe((AUTH,), p_move),
    "MULTIAPPEND": Probe((AUTH,), p_multiappend),
    "BINARY": Probe((AUTH,), p_binary),
    "UTF8=ACCEPT": Probe((AUTH,), p_utf8_accept),
    "CONDSTORE": Probe((AUTH,), p_condstore),
    "QRESYNC": Probe((AUTH,), p_qresync),
    "LIST-EXTENDED": Probe((AUTH,), p_list_extended),
    "LIST-STATUS": Probe((AUTH,), p_list_status),
    "XLIST": Probe((AUTH,), p_xlist),
    "METADATA": Probe((AUTH,), p_metadata),
    "METADATA-SERVER": Probe((AUTH,), p_metadata_server),
    "QUOTA": Probe((AUTH,), p_quota),
    "QUOTA=RES-STORAGE": Probe((AUTH,), _quota_resource(b"STORAGE")),
    "QUOTA=RES-MESSAGE": Probe((AUTH,), _quota_resource(b"MESSAGE")),
    "QUOTA=RES-MAILBOX": Probe((AUTH,), _quota_resource(b"MAILBOX")),
    "QUOTASET": Probe((AUTH,), p_quotaset),
    "ESEARCH": Probe((AUTH,), p_esearch),
    "SEARCHRES": Probe((AUTH,), p_searchres),
    "PARTIAL": Probe((AUTH,), p_partial),
    "SORT": Probe((AUTH,), p_sort),
    "SORT=DISPLAY": Probe((AUTH,), p_sort_display),
    "THREAD=ORDEREDSUBJECT": Probe((AUTH,), _thread("ORDEREDSUBJECT")),
    "THREAD=REFERENCES": Probe((AUTH,), _thread("REFERENCES")),
    "WITHIN": Probe((AUTH,), p_within),
    "NOTIFY": Probe((AUTH,), p_notify),
    "APPENDLIMIT": Probe((AUTH,), p_appendlimit),
    # Capabilities other helpers are adding (issue 6); they fail until those land.
    "UIDONLY": Probe((AUTH,), p_uidonly),
    "MULTISEARCH": Probe((AUTH,), p_multisearch),
    "ESORT": Probe((AUTH,), p_esort),
    "OBJECTID": Probe((AUTH,), p_objectid),
    "SAVEDATE": Probe((AUTH,), p_savedate),
    "PREVIEW": Probe((AUTH,), p_preview),
    "REPLACE": Probe((AUTH,), p_replace),
    "CATENATE": Probe((AUTH,), p_catenate),
    "URLAUTH": Probe((AUTH,), p_urlauth),
}


def _word(capability: str) -> str:
    """The table key of an advertised word: APPENDLIMIT=n is one capability."""
    return "APPENDLIMIT" if capability.startswith("APPENDLIMIT=") else capability


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = server_settings(tmp_path_factory.mktemp("probes") / "data")
    settings = dataclasses.replace(base, auth=dataclasses.replace(base.auth, admins=("carol",)))
    with ServerThread(settings, users=("alice", "bob", "carol")) as server:
        store = server.store
        assert store is not None

        async def limits() -> None:
            await store.set_user_quota("alice", storage=10**9, messages=10**6, mailboxes=10**4)

        server.call(limits)
        yield World(server)


def _advertised(world: World, state: str) -> list[str]:
    try:
        return world.connect(state).caps()
    finally:
        world.close_all()


@pytest.mark.parametrize("state", STATES)
def test_every_advertised_capability_has_a_probe(world: World, state: str) -> None:
    advertised = [_word(c) for c in _advertised(world, state)]
    missing = [c for c in advertised if c not in PROBES or state not in PROBES[c].states]
    assert not missing, f"advertised {state} without a probe: {missing}"


CASES = [(cap, state) for cap, probe in PROBES.items() for state in probe.states]


@pytest.mark.parametrize(("capability", "state"), CASES, ids=[f"{c}-{s}" for c, s in CASES])
def test_probe(world: World, capability: str, state: str) -> None:
    advertised = [_word(c) for c in _advertised(world, state)]
    assert capability in advertised, f"{capability} is not advertised {state}"
    try:
        PROBES[capability].run(world.connect(state))
    finally:
        world.close_all()


def test_the_table_is_read() -> None:
    assert set(PROBES) >= {"IMAP4rev1", "IDLE", "MOVE", "AUTH=SCRAM-SHA-256"}
    assert all(probe.states for probe in PROBES.values())
