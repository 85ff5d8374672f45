"""Many connections in IDLE: resident memory per connection, and how fast all hear of a change.

Theory of operation
-------------------
For each server (Buzón as `buzon serve` in its own process, then a private Dovecot), the
benchmark opens `--connections` plain IMAP connections from this one process with asyncio
streams, at most `--concurrency` handshakes at a time: LOGIN, SELECT INBOX, IDLE, until
"+ idling". The server's memory is read from /proc before and after: VmRSS for Buzón's one
process; for Dovecot, whose every IMAP session is a process of its own, the sum over the
whole process tree of both RSS (counts shared library pages once per process) and PSS
(shares them out: the fair figure), with the number of processes.

Then one more connection APPENDs a message to INBOX, and each idler's time from just
before the APPEND is written until its `* n EXISTS` line is parsed is recorded: the
maximum is "all of them told". The idlers are read by the same event loop in this process,
so the times include the client's own work of reading 10,000 sockets on a 2-core machine
shared with the server: they are an upper bound on what the server needs.

Both processes need many file descriptors: this process raises RLIMIT_NOFILE to its hard
limit, and the servers, started from here, inherit it. Dovecot also needs one inotify
instance per idling session (`fs.inotify.max_user_instances`, 128 by default on Debian):
past that it falls back to polling every 30 s. The benchmark warns when the limit is low;
raise it as root (`sysctl -w fs.inotify.max_user_instances=20000`) before a Dovecot run.

Run from the repository root:

    .venv/bin/python -m bench.idle_bench --connections 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import buzon_server, dovecot
from bench.corpus import message

_TIMEOUT = 60.0  # seconds for one connection's handshake or for the change to arrive


def raise_nofile() -> int:
    """Raise this process's (and its children's) open-file limit to the hard limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(root: int) -> float:
    """User plus system CPU time used so far by `root` and its descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (proc(5) fields 14, 15)
    return total / tick


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


@dataclass(slots=True)
class Memory:
    rss_kib: int
    pss_kib: int
    processes: int


def memory(root: int) -> Memory:
    pids = process_tree(root)
    rss = pss = 0
    for pid in pids:
        try:
            rss += _status_kib(pid, "VmRSS")
            pss += _pss_kib(pid)
        except OSError:
            continue
    return Memory(rss, pss, len(pids))


@dataclass(slots=True)
class Idler:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


async def _expect(reader: asyncio.StreamReader, prefix: bytes) -> None:
    """Read lines until one starts with `prefix`; a NO, BAD or BYE is an error."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed by the server")
        if line.startswith(prefix):
            if b" NO " in line[:12] or b" BAD " in line[:12]:
                raise ConnectionError(line.decode(errors="replace").strip())
            return
        if line.startswith(b"* BYE"):
            raise ConnectionError(line.decode(errors="replace").strip())


async def _open_idler(port: int, user: str, password: str, verb: bytes = b"SELECT") -> Idler:
    """LOGIN, SELECT (or EXAMINE: a read-only session claims no \\Recent) INBOX, IDLE."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 16)
    try:
        await _expect(reader, b"* OK")
        writer.write(b'a LOGIN %s "%s"\r\n' % (user.encode(), password.encode()))
        await _expect(reader, b"a ")
        writer.write(b"b %s INBOX\r\nc IDLE\r\n" % verb)
        await _expect(reader, b"b ")
        await _expect(reader, b"+ ")
    except BaseException:
        writer.close()
        raise
    return Idler(reader, writer)


async def open_idlers(
    port: int, count: int, user: str, password: str, *, concurrency: int, verb: bytes
) -> tuple[list[Idler], list[str]]:
    """Open up to `count` idling connections; return them and the errors of the rest."""
    gate = asyncio.Semaphore(concurrency)
    idlers: list[Idler] = []
    errors: list[str] = []
    started = time.monotonic()

    async def one() -> None:
        async with gate:
            try:
                idlers.append(
                    await asyncio.wait_for(_open_idler(port, user, password, verb), _TIMEOUT)
                )
            except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            done = len(idlers) + len(errors)
            if done % 1000 == 0:
                rate = done / (time.monotonic() - started)
                print(f"  {done} connections tried ({rate:.0f}/s)", file=sys.stderr)

    await asyncio.gather(*(one() for _ in range(count)))
    return idlers, errors


async def _time_exists(idler: Idler, start: list[float]) -> float:
    while True:
        line = await idler.reader.readline()
        if not line:
            raise ConnectionError("closed")
        if line.endswith(b" EXISTS\r\n"):
            return time.perf_counter() - start[0]


async def append_one(port: int, user: str, password: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await _expect(reader, b"* OK")
        writer.write(b'a LOGIN %s "%s"\r\n' % (user.encode(), password.encode()))
        await _expect(reader, b"a ")
        body = message(7, 1).content
        writer.write(b"t APPEND INBOX {%d+}\r\n%s\r\n" % (len(body), body))
        await _expect(reader, b"t ")
    finally:
        writer.close()


@dataclass(slots=True)
class Result:
    server: str
    version: str
    asked: int
    held: int
    errors: int
    first_error: str
    connect_seconds: float
    before: Memory
    after: Memory
    kib_per_connection_rss: float
    kib_per_connection_pss: float
    told: int
    latency_p50_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    fanout_server_cpu_ms: float = 0.0
    fanout_client_cpu_ms: float = 0.0
    append_ms: float = 0.0
    notes: list[str] = field(default_factory=list)


async def measure(
    server: str,
    *,
    version: str,
    port: int,
    pid: int,
    user: str,
    password: str,
    args: argparse.Namespace,
) -> Result:
    # Warm-up: one full session, so that code paths and caches are loaded before the baseline.
    warm = await _open_idler(port, user, password)
    warm.writer.write(b"DONE\r\nz LOGOUT\r\n")
    await warm.writer.drain()
    warm.writer.close()
    await asyncio.sleep(args.settle)
    before = memory(pid)
    print(f"{server}: baseline {before}", file=sys.stderr)
    t0 = time.monotonic()
    verb = b"EXAMINE" if args.examine else b"SELECT"
    idlers, errors = await open_idlers(
        port, args.connections, user, password, concurrency=args.concurrency, verb=verb
    )
    connect_seconds = time.monotonic() - t0
    print(f"{server}: {len(idlers)} idling, {len(errors)} failed", file=sys.stderr)
    await asyncio.sleep(args.settle)
    after = memory(pid)
    held = max(1, len(idlers))
    start = [0.0]
    waits = [asyncio.create_task(_time_exists(i, start)) for i in idlers]
    await asyncio.sleep(0.5)  # every reader is waiting before the clock starts
    server_cpu, client_cpu = cpu_seconds(pid), own_cpu_seconds()
    start[0] = time.perf_counter()
    await append_one(port, user, password)
    append_ms = (time.perf_counter() - start[0]) * 1000  # until its tagged OK: the commit
    done, pending = await asyncio.wait(waits, timeout=_TIMEOUT)
    # CPU used while the change went out: less sensitive than the latencies to other
    # work on the machine (the server's includes the APPEND itself).
    server_cpu = cpu_seconds(pid) - server_cpu
    client_cpu = own_cpu_seconds() - client_cpu
    print(
        f"{server}: fan-out CPU: server {server_cpu * 1000:.0f} ms,"
        f" this client {client_cpu * 1000:.0f} ms; the APPEND took {append_ms:.0f} ms",
        file=sys.stderr,
    )
    for task in pending:
        task.cancel()
    latencies = sorted(t.result() * 1000 for t in done if t.exception() is None)
    for idler in idlers:
        idler.writer.close()
    await asyncio.sleep(1.0)
    told = len(latencies)

    def q(p: float) -> float:
        return latencies[min(told - 1, int(p * told))] if told else float("nan")

    return Result(
        server=server,
        version=version,
        asked=args.connections,
        held=len(idlers),
        errors=len(errors),
        first_error=errors[0] if errors else "",
        connect_seconds=round(connect_seconds, 1),
        before=before,
        after=after,
        kib_per_connection_rss=round((after.rss_kib - before.rss_kib) / held, 1),
        kib_per_connection_pss=round((after.pss_kib - before.pss_kib) / held, 1),
        told=told,
        latency_p50_ms=round(statistics.median(latencies), 1) if latencies else float("nan"),
        latency_p99_ms=round(q(0.99), 1),
        latency_max_ms=round(latencies[-1], 1) if latencies else float("nan"),
        fanout_server_cpu_ms=round(server_cpu * 1000),
        fanout_client_cpu_ms=round(client_cpu * 1000),
        append_ms=round(append_ms, 1),
    )


_BUZON_LIMITS = """
[limits]
max_connections = {n}
max_connections_per_user = {n}
max_connections_per_address = {n}
"""


async def run_buzon(work: Path, args: argparse.Namespace) -> Result:
    data, config = work / "buzon-data", work / "buzon.toml"
    populator = buzon_server.BuzonPopulator(data, config)
    await populator.open()
    await populator.append([message(3, i) for i in range(args.messages)])
    await populator.close()
    # The populator wrote the benchmark's usual config; add the connection limits.
    config.write_text(config.read_text() + _BUZON_LIMITS.format(n=args.connections + 100))
    with buzon_server.BuzonServer(data, config) as server:
        server.start()
        assert server.pid is not None
        return await measure(
            "Buzón",
            version=buzon_server.buzon_version(),
            port=server.port,
            pid=server.pid,
            user=buzon_server.USER,
            password=buzon_server.PASSWORD,
            args=args,
        )


_DOVECOT_SERVICES = """
# Added by bench/idle_bench.py: room for {n} sessions, one imap process each.
default_process_limit = {procs}
default_client_limit = {clients}
default_vsz_limit = 256M
service imap {{
  process_limit = {procs}
  client_limit = 1
}}
service anvil {{
  client_limit = {clients}
}}
service auth {{
  client_limit = {clients}
}}
"""


async def run_dovecot(work: Path, args: argparse.Namespace) -> Result:
    root = work / "dovecot"
    root.mkdir()
    server = dovecot.DovecotServer(root)
    server.configure()
    n = args.connections + 100
    conf = server.conf.read_text()
    conf = conf.replace("mail_max_userip_connections = 100", f"mail_max_userip_connections = {n}")
    # Login processes in "high-performance" mode: a few processes serve all handshakes.
    conf = conf.replace(
        "service imap-login {\n",
        "service imap-login {\n  service_count = 0\n  process_min_avail = 2\n"
        f"  client_limit = {n}\n",
    )
    conf += _DOVECOT_SERVICES.format(n=args.connections, procs=n, clients=2 * n + 1000)
    server.conf.write_text(conf)
    writer = server.writer()
    for i in range(args.messages):
        writer.add(message(3, i))
    writer.finish()
    notes = []
    instances = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    if instances < args.connections:
        notes.append(
            f"fs.inotify.max_user_instances is {instances}: sessions past that poll every 30 s"
        )
    with server:
        server.start()
        server.index()  # needs the running server's auth service
        assert server._proc is not None
        result = await measure(
            "Dovecot",
            version=dovecot.dovecot_version(),
            port=server.port,
            pid=server._proc.pid,
            user=dovecot.USER,
            password=dovecot.PASSWORD,
            args=args,
        )
    result.notes.extend(notes)
    return result


def markdown(results: list[Result]) -> str:
    rows = [
        "| server | connections held | server memory before → after | per connection | "
        "told of one APPEND | p50 / p99 / max |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        mem = (
            f"RSS {r.before.rss_kib / 1024:.0f} → {r.after.rss_kib / 1024:.0f} MiB, "
            f"PSS {r.before.pss_kib / 1024:.0f} → {r.after.pss_kib / 1024:.0f} MiB "
            f"({r.before.processes} → {r.after.processes} processes)"
        )
        rows.append(
            f"| {r.server} {r.version} | {r.held} of {r.asked} | {mem} | "
            f"{r.kib_per_connection_rss} KiB RSS, {r.kib_per_connection_pss} KiB PSS | "
            f"{r.told} of {r.held} | {r.latency_p50_ms} / {r.latency_p99_ms} / "
            f"{r.latency_max_ms} ms |"
        )
    return "\n".join(rows)


async def main_async(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="idle-bench-", dir=args.workdir) as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        if "buzon" in args.servers:
            results.append(await run_buzon(work, args))
        if "dovecot" in args.servers:
            results.append(await run_dovecot(work, args))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes at once")
    parser.add_argument("--messages", type=int, default=20, help="messages in INBOX")
    parser.add_argument("--servers", default="buzon,dovecot", help="comma-separated")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--examine", action="store_true", help="EXAMINE instead of SELECT")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.servers = set(args.servers.split(","))
    limit = raise_nofile()
    if limit < args.connections + 100:
        parser.error(f"the open-file hard limit is {limit}; raise it above --connections")
    results = asyncio.run(main_async(args))
    print(markdown(results))
    for r in results:
        for note in r.notes:
            print(f"- {r.server}: {note}")
        if r.errors:
            print(f"- {r.server}: {r.errors} connections failed, first: {r.first_error}")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
