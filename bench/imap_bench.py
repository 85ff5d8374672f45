"""Buzón against Dovecot on the same large mailbox: `python -m bench.imap_bench`.

Theory of operation
-------------------
1. Populate. One worker process generates the corpus (`bench.corpus`) in chunks of
   `--batch` messages while the main process writes each chunk twice: as Maildir files
   for Dovecot and through Buzón's storage API (`Mailbox.append`, one transaction per
   chunk). Then `doveadm index` indexes the Maildir. Each step is timed.
2. Measure, one server at a time (the other is stopped, so they never share the CPUs):
   log in, then per operation one warm-up run (not counted: it fills Dovecot's cache file
   and both servers' page cache, as a user's earlier sessions would have) and `--repeat`
   timed runs. Operations: SELECT INBOX, UID FETCH 1:* (FLAGS), FETCH 1:* (ENVELOPE),
   FETCH of `--bodies` full bodies (BODY.PEEK[], one command, message numbers spread over
   the mailbox), and APPEND throughput with 1 client and with `--clients` concurrent
   clients, each a separate process appending fresh corpus messages (LITERAL+) to a
   mailbox of their own.
3. Report: a Markdown table (median and min per server, ratio Buzón/Dovecot of the
   medians) on stdout, and every sample as JSON with `--json`.

Everything started is stopped in `finally` blocks; the work directory is removed unless
`--keep` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.pool import AsyncResult
from multiprocessing.synchronize import Barrier
from pathlib import Path
from types import FrameType

from bench.buzon_server import BuzonPopulator, BuzonServer, buzon_version
from bench.client import ImapClient
from bench.corpus import BenchMessage, message
from bench.dovecot import PASSWORD, USER, DovecotServer, dovecot_version

APPEND_MAILBOX = "BenchAppend"
_AHEAD = 3  # corpus chunks generated ahead of population


@dataclass(slots=True)
class Timings:
    """Samples (seconds) of one operation on one server, plus what it returned."""

    samples: list[float] = field(default_factory=list)
    untagged: int = 0
    received: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)


@dataclass(frozen=True, slots=True)
class AppendRun:
    """The messages of one APPEND run: one list per client."""

    single: list[list[BenchMessage]]
    concurrent: list[list[BenchMessage]]


@dataclass(slots=True)
class ServerResult:
    name: str
    ops: dict[str, Timings] = field(default_factory=dict)
    # APPEND: messages per second of each run.
    rates: dict[str, list[float]] = field(default_factory=dict)


# --- corpus in a worker process ------------------------------------------------------------


def _chunk(job: tuple[int, int, int]) -> list[BenchMessage]:
    seed, start, stop = job
    return [message(seed, i) for i in range(start, stop)]


def _chunks(seed: int, start: int, stop: int, batch: int) -> Iterator[tuple[int, int, int]]:
    for first in range(start, stop, batch):
        yield seed, first, min(stop, first + batch)


# --- population ----------------------------------------------------------------------------


async def populate(
    args: argparse.Namespace, dovecot: DovecotServer, buzon: BuzonPopulator
) -> dict[str, float]:
    """Fill both mailboxes with the same `args.messages` messages; return step timings."""
    writer = dovecot.writer()
    spent = {"generate_wait": 0.0, "dovecot_write": 0.0, "buzon_append": 0.0}
    await buzon.open()
    ctx = mp.get_context("fork")
    done = 0
    with ctx.Pool(1) as pool:
        # At most `_AHEAD` chunks generated ahead: Pool.imap would run ahead without bound.
        jobs = _chunks(args.seed, 0, args.messages, args.batch)
        pending: deque[AsyncResult[list[BenchMessage]]] = deque()
        while True:
            while len(pending) < _AHEAD and (job := next(jobs, None)) is not None:
                pending.append(pool.apply_async(_chunk, (job,)))
            if not pending:
                break
            t0 = time.perf_counter()
            batch = pending.popleft().get()
            t1 = time.perf_counter()
            spent["generate_wait"] += t1 - t0
            for msg in batch:
                writer.add(msg)
            t2 = time.perf_counter()
            spent["dovecot_write"] += t2 - t1
            await buzon.append(batch)
            spent["buzon_append"] += time.perf_counter() - t2
            done += len(batch)
            if done % (args.batch * 10) == 0 or done == args.messages:
                print(
                    f"  populated {done}/{args.messages}"
                    f" (dovecot write {spent['dovecot_write']:.0f}s,"
                    f" buzon append {spent['buzon_append']:.0f}s)",
                    file=sys.stderr,
                    flush=True,
                )
    await buzon.close()
    t0 = time.perf_counter()
    writer.finish()
    spent["dovecot_write"] += time.perf_counter() - t0
    return spent


# --- measurements --------------------------------------------------------------------------


def _timed(
    result: ServerResult,
    name: str,
    repeat: int,
    run: Callable[[], tuple[int, int]],
    expect_untagged: int | None = None,
    *,
    first: str | None = None,
) -> None:
    """Time `repeat` runs after a warm-up, kept as operation `first` when named (the
    first run of a command a server answers from a cache it fills)."""
    t0 = time.perf_counter()
    run()
    if first is not None:
        result.ops[first] = Timings([time.perf_counter() - t0])
    timings = Timings()
    for _ in range(repeat):
        t0 = time.perf_counter()
        untagged, received = run()
        timings.samples.append(time.perf_counter() - t0)
        timings.untagged, timings.received = untagged, received
    if expect_untagged is not None and timings.untagged < expect_untagged:
        raise RuntimeError(
            f"{result.name} {name}: {timings.untagged} untagged responses,"
            f" expected at least {expect_untagged}"
        )
    result.ops[name] = timings
    print(
        f"  {result.name:8} {name:32} median {timings.median * 1000:10.1f} ms"
        f"  min {timings.best * 1000:10.1f} ms",
        file=sys.stderr,
        flush=True,
    )


def _sequence_set(numbers: Sequence[int]) -> bytes:
    return ",".join(str(n) for n in numbers).encode()


def _append_worker(
    port: int, messages: Sequence[BenchMessage], barrier: Barrier, out: Connection
) -> None:
    client = ImapClient(port)
    try:
        client.login(USER, PASSWORD)
        barrier.wait()
        start = time.monotonic()
        for msg in messages:
            flags = " ".join(sorted(msg.flags)).encode()
            date = msg.internal_date.strftime("%d-%b-%Y %H:%M:%S +0000").encode()
            client.command(
                b'APPEND %s (%s) "%s" {}' % (APPEND_MAILBOX.encode(), flags, date),
                literals=(msg.content,),
            )
        out.send((start, time.monotonic()))
    except BaseException as exc:
        out.send(repr(exc))
        raise
    finally:
        client.logout()


def append_rate(port: int, per_client: Sequence[Sequence[BenchMessage]]) -> float:
    """Messages per second, all clients together, from the first start to the last end."""
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(per_client))
    pipes = [ctx.Pipe(duplex=False) for _ in per_client]
    procs = [
        ctx.Process(target=_append_worker, args=(port, msgs, barrier, send))
        for msgs, (_, send) in zip(per_client, pipes, strict=True)
    ]
    try:
        for p in procs:
            p.start()
        spans = [recv.recv() for recv, _ in pipes]
    finally:
        for p in procs:
            p.join(60)
            if p.is_alive():
                p.kill()
                p.join()
    for span in spans:
        if isinstance(span, str):
            raise RuntimeError(f"APPEND client failed: {span}")
    starts = [float(s[0]) for s in spans]
    ends = [float(s[1]) for s in spans]
    return sum(len(m) for m in per_client) / (max(ends) - min(starts))


MESSAGE_LIST = (
    b"UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject"
    b" Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type"
    b" Reply-To)])"
)
# A common word, a rare phrase, a header/date/flag combination, then SORT and THREAD.
SEARCHES = (
    b"UID SEARCH TEXT invoice",
    b'UID SEARCH BODY "weekend holiday travel"',
    b"UID SEARCH FROM Martin SINCE 1-Jun-2025 UNSEEN",
    b"UID SORT (REVERSE DATE) UTF-8 ALL",
    b"UID THREAD REFERENCES UTF-8 ALL",
)


def measure(
    name: str, port: int, args: argparse.Namespace, append_runs: list[AppendRun]
) -> ServerResult:
    """Every operation against the server on `port`."""
    result = ServerResult(name)
    n = args.messages
    client = ImapClient(port)
    try:
        client.login(USER, PASSWORD)
        client.command(b"CREATE %s" % APPEND_MAILBOX.encode())

        def select() -> tuple[int, int]:
            reply = client.command(b"SELECT INBOX", keep=True)
            exists = [ln for ln in reply.lines if ln.endswith(b" EXISTS")]
            if exists != [b"* %d EXISTS" % n]:
                raise RuntimeError(f"{name}: SELECT said {exists}, expected {n} messages")
            return reply.untagged, reply.received

        def fetch(command: bytes) -> Callable[[], tuple[int, int]]:
            def run() -> tuple[int, int]:
                reply = client.command(command)
                return reply.untagged, reply.received

            return run

        _timed(result, "SELECT INBOX", args.repeat, select)
        _timed(result, "UID FETCH 1:* (FLAGS)", args.repeat, fetch(b"UID FETCH 1:* (FLAGS)"), n)
        _timed(result, "FETCH 1:* (ENVELOPE)", args.repeat, fetch(b"FETCH 1:* (ENVELOPE)"), n)
        # Thunderbird's message list. Dovecot fills its cache with these fields the first
        # time; Buzón reads the headers it stored at delivery every time.
        _timed(
            result,
            "message list (header fields)",
            args.repeat,
            fetch(MESSAGE_LIST),
            n,
            first="message list, first time",
        )
        count = min(args.bodies, n)
        numbers = sorted(random.Random(args.seed).sample(range(1, n + 1), count))
        _timed(
            result,
            f"FETCH {count} x BODY.PEEK[]",
            args.repeat,
            fetch(b"FETCH %s (BODY.PEEK[])" % _sequence_set(numbers)),
            count,
        )
        # Issue 4: server-side search, sort and threads. Dovecot scans without an FTS
        # plugin (its default), so its body searches are slow: fewer repetitions.
        searches = min(args.repeat, 3)
        for command in SEARCHES:
            _timed(result, command.decode(), searches, fetch(command), 1)
    finally:
        client.logout()

    for label, concurrent in (
        ("APPEND, 1 client", False),
        (f"APPEND, {args.clients} clients", True),
    ):
        rates = []
        for run in append_runs:
            rates.append(append_rate(port, run.concurrent if concurrent else run.single))
        result.rates[label] = rates
        print(
            f"  {name:8} {label:32} median {statistics.median(rates):10.1f} msg/s"
            f"  max {max(rates):10.1f} msg/s",
            file=sys.stderr,
            flush=True,
        )
    return result


def append_messages(args: argparse.Namespace) -> list[AppendRun]:
    """The messages of each APPEND run.

    Fresh corpus messages beyond the mailbox, different in every run, so that no store can
    deduplicate them.
    """
    runs = []
    index = args.messages
    for _ in range(args.append_runs):
        single = [message(args.seed, i) for i in range(index, index + args.append_single)]
        index += args.append_single
        many = []
        for _ in range(args.clients):
            many.append([message(args.seed, i) for i in range(index, index + args.per_client)])
            index += args.per_client
        runs.append(AppendRun([single], many))
    return runs


# --- report --------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def report(buzon: ServerResult, dovecot: ServerResult) -> str:
    lines = [
        "| operation | Buzón median (min) | Dovecot median (min) | Buzón / Dovecot | within 2x |",
        "| --- | --- | --- | --- | --- |",
    ]
    for op, b in buzon.ops.items():
        d = dovecot.ops[op]
        ratio = b.median / d.median
        lines.append(
            f"| `{op}` | {_ms(b.median)} ({_ms(b.best)}) | {_ms(d.median)} ({_ms(d.best)})"
            f" | {ratio:.2f}x | {'yes' if ratio <= 2 else 'no'} |"
        )
    for op, b_rates in buzon.rates.items():
        d_rates = dovecot.rates[op]
        bm, dm = statistics.median(b_rates), statistics.median(d_rates)
        ratio = dm / bm  # time per message, Buzón over Dovecot
        lines.append(
            f"| {op} | {bm:,.0f} msg/s ({max(b_rates):,.0f}) | {dm:,.0f} msg/s"
            f" ({max(d_rates):,.0f}) | {ratio:.2f}x | {'yes' if ratio <= 2 else 'no'} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, str]:
    with open("/proc/meminfo") as fh:
        mem_kib = int(fh.readline().split()[1])
    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "kernel": platform.release(),
        "dovecot": dovecot_version(),
        "buzon": buzon_version(),
    }


def _du(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.imap_bench", description=__doc__.split("\n")[0]
    )
    p.add_argument("--messages", type=int, default=100_000, help="mailbox size (default 100000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=1000, help="messages per Buzón append")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per operation")
    p.add_argument("--bodies", type=int, default=1000, help="full bodies to fetch")
    p.add_argument("--append-single", type=int, default=1000, help="messages, 1 client")
    p.add_argument("--clients", type=int, default=20, help="concurrent APPEND clients")
    p.add_argument("--per-client", type=int, default=100, help="messages per client")
    p.add_argument("--append-runs", type=int, default=3, help="APPEND runs per server")
    p.add_argument("--workdir", type=Path, default=None, help="parent of the temp directory")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--json", type=Path, default=None, help="write all samples here")
    return p.parse_args(argv)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # run the finally blocks: stop the servers, clean up


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    root = Path(tempfile.mkdtemp(prefix="buzon-bench-", dir=args.workdir))
    print(f"work directory {root}", file=sys.stderr)
    os.chmod(root, 0o755)  # Dovecot's auth and mail processes do not run as root
    info = machine()
    dovecot = DovecotServer(root / "dovecot")
    buzon_dir = root / "buzon" / "data"
    buzon_dir.mkdir(parents=True)
    buzon_conf = root / "buzon" / "buzon.toml"
    try:
        dovecot.root.mkdir()
        dovecot.configure()
        t0 = time.perf_counter()
        spent = asyncio.run(populate(args, dovecot, BuzonPopulator(buzon_dir, buzon_conf)))
        spent["total"] = time.perf_counter() - t0
        sizes = {"dovecot_bytes": _du(dovecot.maildir), "buzon_bytes": _du(buzon_dir)}
        print(f"  population {spent} disk {sizes}", file=sys.stderr, flush=True)
        appends = append_messages(args)

        with dovecot:
            dovecot.start()
            t0 = time.perf_counter()
            dovecot.index()  # needs the running server's auth service
            spent["dovecot_index"] = time.perf_counter() - t0
            d_result = measure("dovecot", dovecot.port, args, appends)
        with BuzonServer(buzon_dir, buzon_conf) as server:
            server.start()
            spent["buzon_index_after_start"] = server.wait_indexed()
            print(
                f"  buzon    full-text index caught up in {spent['buzon_index_after_start']:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            b_result = measure("buzon", server.port, args, appends)

        table = report(b_result, d_result)
        print(f"\nmachine: {info}\npopulation (s): {spent}\ndisk: {sizes}\n")
        print(table)
        if args.json is not None:
            args.json.write_text(
                json.dumps(
                    {
                        "argv": sys.argv,
                        "args": {k: str(v) for k, v in vars(args).items()},
                        "machine": info,
                        "population_seconds": spent,
                        "disk_bytes": sizes,
                        "results": [asdict(b_result), asdict(d_result)],
                    },
                    indent=2,
                )
            )
    finally:
        dovecot.stop()
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
