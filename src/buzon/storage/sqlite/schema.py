"""The SQLite schema as numbered migrations, applied in order at open.

Theory of operation
-------------------
`MIGRATIONS[i]` brings the schema from version i to i + 1. `migrate` takes the write lock
(BEGIN IMMEDIATE, so several processes opening the same data dir at once serialise),
reads `schema_version`, applies the missing scripts and records the new version, all in
one transaction. Never edit a released migration: append a new one.

Tables (version 1):
- `meta`: store-wide counters; `uidvalidity` is the last UIDVALIDITY handed out. It is
  store-wide (stronger than per user) and seeded from the clock, so a name never gets a
  UIDVALIDITY it had before, even across a user deleted and re-created.
- `users`: name (exact, case-sensitive) and opaque secret.
- `mailboxes`: one row per incarnation of a mailbox (AUTOINCREMENT: ids are never reused;
  the id is the API's `mailbox_id`). `uidnext`, `highest_modseq`, `recent_mark` (highest
  UID claimed as \\Recent) and the STATUS counters are updated in the same transaction as
  the messages they describe.
- `contents`: message bytes by SHA-256, shared by every message with that content and
  reference counted. `inline` holds the bytes when small, else NULL and the bytes live in
  blobs/ab/cd/<hex>. `structure` is `ParsedMessage.dumps()`.
- `messages`: (mailbox_id, uid) primary key, WITHOUT ROWID; system flags as a bitmask,
  keywords as one space-separated text (atoms never contain spaces), per-message modseq.
- `expunged`: one row per expunged UID with the modseq of its expunge, kept forever so
  `changes_since` is exact after any absence (RFC 7162 §3.2.10, VANISHED).
- `mailbox_keywords`: every keyword ever set in a mailbox, in its first spelling (FLAGS).
- `subscriptions`: names, independent of mailboxes (RFC 9051 §6.3.6: RENAME does not
  update them).
- `blob_trash`: content hashes whose last reference went away; their files are removed
  after commit under the write lock, and at open after a crash.

Version 2 adds `import_positions`: per user and import source, the last position an
import committed, written in the same transaction as the messages it covers.

Version 3 adds `quotas` (per-user limits; usage is the sum of the `mailboxes` counters,
exact because they change in the same transaction as the messages) and `metadata`
(RFC 5464 annotations: `mailbox_id` 0 is the server, `owner` 0 a /shared entry, else the
user id of a /private one; `folded` is the lower-cased name, `name` its first spelling).
"""

from __future__ import annotations

import sqlite3

from buzon.storage.api import StorageError

MIGRATIONS: list[str] = [
    # 0 -> 1
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('uidvalidity', 0);

    CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        secret TEXT NOT NULL
    );

    CREATE TABLE mailboxes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id),
        name TEXT NOT NULL,
        selectable INTEGER NOT NULL,
        special_use TEXT NOT NULL DEFAULT '',
        uidvalidity INTEGER NOT NULL,
        uidnext INTEGER NOT NULL DEFAULT 1,
        highest_modseq INTEGER NOT NULL DEFAULT 1,
        recent_mark INTEGER NOT NULL DEFAULT 0,
        messages INTEGER NOT NULL DEFAULT 0,
        unseen INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        size INTEGER NOT NULL DEFAULT 0,
        UNIQUE (user_id, name)
    );

    CREATE TABLE contents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sha256 BLOB NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        inline BLOB,
        structure BLOB NOT NULL,
        refcount INTEGER NOT NULL
    );

    CREATE TABLE messages (
        mailbox_id INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        content_id INTEGER NOT NULL,
        sysflags INTEGER NOT NULL,
        keywords TEXT NOT NULL,
        modseq INTEGER NOT NULL,
        internal_date TEXT NOT NULL,
        save_date TEXT NOT NULL,
        PRIMARY KEY (mailbox_id, uid)
    ) WITHOUT ROWID;
    CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
    CREATE INDEX messages_unseen ON messages (mailbox_id, uid) WHERE (sysflags & 1) = 0;

    CREATE TABLE expunged (
        mailbox_id INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        modseq INTEGER NOT NULL,
        PRIMARY KEY (mailbox_id, uid)
    ) WITHOUT ROWID;
    CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);

    CREATE TABLE mailbox_keywords (
        mailbox_id INTEGER NOT NULL,
        folded TEXT NOT NULL,
        keyword TEXT NOT NULL,
        PRIMARY KEY (mailbox_id, folded)
    ) WITHOUT ROWID;

    CREATE TABLE subscriptions (
        user_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (user_id, name)
    ) WITHOUT ROWID;

    CREATE TABLE blob_trash (
        sha256 BLOB PRIMARY KEY
    ) WITHOUT ROWID;
    """,
    # 1 -> 2: checkpoints of resumable imports (`Mailbox.import_messages`)
    """
    CREATE TABLE import_positions (
        user_id INTEGER NOT NULL,
        source TEXT NOT NULL,
        position TEXT NOT NULL,
        PRIMARY KEY (user_id, source)
    ) WITHOUT ROWID;
    """,
    # 2 -> 3: quota limits (`quota.py`) and annotations (`metadata.py`, RFC 5464)
    """
    CREATE TABLE quotas (
        user_id INTEGER PRIMARY KEY,
        storage_limit INTEGER,
        message_limit INTEGER
    );

    CREATE TABLE metadata (
        mailbox_id INTEGER NOT NULL,
        owner INTEGER NOT NULL,
        folded TEXT NOT NULL,
        name TEXT NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (mailbox_id, owner, folded)
    ) WITHOUT ROWID;
    CREATE INDEX metadata_owner ON metadata (owner);
    """,
    # 3 -> 4: search and sort fields per content, the trigram full-text index (fields.py,
    # sqlite/search.py); rows for older contents are filled in at open (sqlite/index.py)
    """
    CREATE TABLE msg_fields (
        content_id INTEGER PRIMARY KEY,
        sent TEXT,
        sent_day TEXT,
        base_subject TEXT NOT NULL,
        is_reply INTEGER NOT NULL,
        from_mailbox TEXT NOT NULL,
        from_display TEXT NOT NULL,
        to_mailbox TEXT NOT NULL,
        to_display TEXT NOT NULL,
        cc_mailbox TEXT NOT NULL,
        message_id TEXT,
        refs TEXT NOT NULL
    );

    CREATE TABLE msg_text (
        content_id INTEGER PRIMARY KEY,
        headers TEXT NOT NULL,
        body TEXT NOT NULL
    );

    CREATE VIRTUAL TABLE msg_fts USING fts5(
        headers, body, content='msg_text', content_rowid='content_id',
        tokenize='trigram case_sensitive 1'
    );

    CREATE TRIGGER msg_text_insert AFTER INSERT ON msg_text BEGIN
        INSERT INTO msg_fts (rowid, headers, body) VALUES (new.content_id, new.headers, new.body);
    END;

    CREATE TRIGGER msg_text_delete AFTER DELETE ON msg_text BEGIN
        INSERT INTO msg_fts (msg_fts, rowid, headers, body)
        VALUES ('delete', old.content_id, old.headers, old.body);
    END;

    CREATE TRIGGER contents_delete_fields AFTER DELETE ON contents BEGIN
        DELETE FROM msg_fields WHERE content_id = old.id;
        DELETE FROM msg_text WHERE content_id = old.id;
    END;
    """,
    # 4 -> 5: the full-text index is fed after the delivering transaction, in batches
    # (storage/sqlite/index.py, `Indexer`): a new text waits in fts_pending, where search
    # treats it as a candidate, until the indexer moves it into msg_fts. A text deleted
    # while still pending was never in msg_fts and must not be 'delete'd from it.
    """
    CREATE TABLE fts_pending (content_id INTEGER PRIMARY KEY);

    DROP TRIGGER IF EXISTS msg_text_insert;
    CREATE TRIGGER msg_text_insert AFTER INSERT ON msg_text BEGIN
        INSERT OR IGNORE INTO fts_pending (content_id) VALUES (new.content_id);
    END;

    DROP TRIGGER IF EXISTS msg_text_delete;
    CREATE TRIGGER msg_text_delete AFTER DELETE ON msg_text BEGIN
        INSERT INTO msg_fts (msg_fts, rowid, headers, body)
            SELECT 'delete', old.content_id, old.headers, old.body
            WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE content_id = old.content_id);
        DELETE FROM fts_pending WHERE content_id = old.content_id;
    END;
    """,
    # 5 -> 6: a limit on the number of mailboxes (RFC 9208 §5.3, `quota.py`)
    """
    ALTER TABLE quotas ADD COLUMN mailbox_limit INTEGER;
    """,
    # 6 -> 7: object ids (RFC 8474) and previews (RFC 8970), `objectid.py`. Existing
    # mailboxes and contents get random ids here; old messages' threads are assigned at
    # open (`objectid.backfill_threads`, until meta.threads_done); old previews at FETCH.
    """
    ALTER TABLE mailboxes ADD COLUMN objectid TEXT;
    UPDATE mailboxes SET objectid = 'F' || lower(hex(randomblob(12)));
    ALTER TABLE contents ADD COLUMN emailid TEXT;
    UPDATE contents SET emailid = 'M' || lower(hex(randomblob(12)));
    CREATE INDEX contents_emailid ON contents (emailid);
    ALTER TABLE contents ADD COLUMN preview TEXT;
    ALTER TABLE messages ADD COLUMN thread TEXT;
    CREATE TABLE thread_keys (
        user_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        thread TEXT NOT NULL,
        PRIMARY KEY (user_id, key)
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('threads_done', 0);
    """,
    # 7 -> 8: URLAUTH mailbox access keys (RFC 4467 §3), one per mailbox, `urlauth.py`
    """
    CREATE TABLE urlauth_keys (
        mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
        key BLOB NOT NULL
    );
    """,
    # 8 -> 9: the ENVELOPE the server rendered for a content, kept opaque (`envelopes.py`).
    # A table of its own: small rows to scan, and no rewrite of a contents row (with its
    # inline bytes) to keep one.
    """
    CREATE TABLE envelopes (
        content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
        data BLOB NOT NULL
    );
    """,
    # 9 -> 10: the Date: header as microseconds since the epoch, SORT's DATE key
    # (`ordering.py`), so that sorting compares integers instead of converting text per row.
    # `sent` is always `isoformat` of a UTC datetime, which strftime reads.
    """
    ALTER TABLE msg_fields ADD COLUMN sent_key INTEGER;
    UPDATE msg_fields SET sent_key =
        CAST(strftime('%s', CASE WHEN substr(sent, 20, 1) = '.'
            THEN substr(sent, 1, 19) || substr(sent, 27) ELSE sent END) AS INTEGER) * 1000000
        + CASE WHEN substr(sent, 20, 1) = '.' THEN CAST(substr(sent, 21, 6) AS INTEGER) ELSE 0 END
        WHERE sent IS NOT NULL;
    """,
    # 10 -> 11: the full-text index moves to a database file of its own, fed by a thread
    # of its own (`ftsdb.py`); this file keeps the queues. A removed text is queued with
    # its words, which the contentless index needs to take it out. The old `msg_fts` is
    # dropped at open (`ftsdb.drop_legacy`, which copes with a corrupt one) and every text
    # queued again for the new file (`ftsdb.ensure`).
    """
    CREATE TABLE fts_forget (
        id INTEGER PRIMARY KEY,
        content_id INTEGER NOT NULL,
        headers TEXT NOT NULL,
        body TEXT NOT NULL
    );

    DROP TRIGGER IF EXISTS msg_text_delete;
    CREATE TRIGGER msg_text_delete AFTER DELETE ON msg_text BEGIN
        DELETE FROM fts_pending WHERE content_id = old.content_id;
        INSERT INTO fts_forget (content_id, headers, body)
            VALUES (old.content_id, old.headers, old.body);
    END;
    """,
    # 11 -> 12: the header of each new content, with its blank line, and whether a body
    # follows, so that FETCH of header fields (a client's message list) reads neither the
    # message file nor the MIME structure (`envelopes.read_headers`). Contents stored
    # before have no row; their header is taken from the file.
    """
    CREATE TABLE msg_headers (
        content_id INTEGER PRIMARY KEY,
        header BLOB NOT NULL,
        body_empty INTEGER NOT NULL
    );

    CREATE TRIGGER contents_delete_headers AFTER DELETE ON contents BEGIN
        DELETE FROM msg_headers WHERE content_id = old.id;
    END;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (no triggers with inner ';')."""
    out: list[str] = []
    buf = ""
    for piece in script.split(";"):
        buf += piece
        if sqlite3.complete_statement(buf + ";"):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
        else:
            buf += ";"
    if buf.strip():
        out.append(buf.strip())
    return out


def migrate(conn: sqlite3.Connection) -> int:
    """Apply missing migrations in one transaction; return the resulting version.

    `conn` must be in autocommit mode (isolation_level=None). `executescript` is avoided
    because it commits implicitly.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"database schema version {version} is newer than this program ({SCHEMA_VERSION})"
            )
        for script in MIGRATIONS[version:]:
            for stmt in _statements(script):
                conn.execute(stmt)
        if row is None:
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        else:
            conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
