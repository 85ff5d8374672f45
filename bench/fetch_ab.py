"""One FETCH timed on Dovecot and on several Buzón trees in the same sitting, alternating.

For comparing a change with the tree before it: the servers take turns command by
command, so that both see the same machine (noise between runs of `imap_bench` is
larger than many a change). Each tree is a directory holding `src/` (e.g.
`git archive HEAD src | tar -x -C /tmp/before`); the store is filled once, through the
storage API of the first tree, and every tree serves it in turn.

    .venv/bin/python -m bench.fetch_ab /tmp/before /tmp/after --messages 5000 --rounds 15
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.buzon_server import PASSWORD, USER, BuzonPopulator, BuzonServer
from bench.client import ImapClient
from bench.corpus import message
from bench.dovecot import DovecotServer


@dataclass
class Contender:
    name: str
    client: ImapClient
    server: BuzonServer | None = None
    samples: list[float] = field(default_factory=list)


async def _fill(data_dir: Path, config: Path, count: int, seed: int) -> None:
    populator = BuzonPopulator(data_dir, config)
    await populator.open()
    for first in range(0, count, 1000):
        await populator.append([message(seed, i) for i in range(first, min(count, first + 1000))])
    await populator.close()


def _client(port: int, user: str, command: bytes) -> ImapClient:
    client = ImapClient(port)
    client.login(user, PASSWORD)
    client.command(b"SELECT INBOX")
    client.command(command)  # warm-up, not counted
    return client


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.fetch_ab", description=__doc__.split("\n")[0])
    p.add_argument("trees", nargs="+", type=Path, help="directories holding a src/ tree")
    p.add_argument("--messages", type=int, default=5000, help="mailbox size (default 5000)")
    p.add_argument("--bodies", type=int, default=1000, help="messages fetched (default 1000)")
    p.add_argument("--items", default="BODY.PEEK[]", help="FETCH items (default BODY.PEEK[])")
    p.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="buzon-fetch-ab-"))
    os.chmod(root, 0o755)  # Dovecot's mail processes do not run as root
    dovecot = DovecotServer(root / "dovecot")
    contenders: list[Contender] = []
    numbers = sorted(random.Random(args.seed).sample(range(1, args.messages + 1), args.bodies))
    command = b"FETCH %s (%s)" % (",".join(map(str, numbers)).encode(), args.items.encode())
    try:
        dovecot.root.mkdir()
        dovecot.configure()
        writer = dovecot.writer()
        for i in range(args.messages):
            writer.add(message(args.seed, i))
        writer.finish()
        data_dir, config = root / "buzon" / "data", root / "buzon" / "buzon.toml"
        data_dir.mkdir(parents=True)
        asyncio.run(_fill(data_dir, config, args.messages, args.seed))
        dovecot.start()
        dovecot.index()
        contenders.append(Contender("dovecot", _client(dovecot.port, USER, command)))
        for n, tree in enumerate(args.trees):
            server = BuzonServer(data_dir, config, src=tree / "src")
            server.start(f"buzon-{n}.log")
            server.wait_indexed()
            contenders.append(Contender(str(tree), _client(server.port, USER, command), server))
        for _ in range(args.rounds):
            for contender in contenders:
                t0 = time.perf_counter()
                contender.client.command(command)
                contender.samples.append(time.perf_counter() - t0)
        base = statistics.median(contenders[0].samples)
        for contender in contenders:
            median = statistics.median(contender.samples)
            print(
                f"{contender.name:30} median {median * 1000:8.1f} ms"
                f"  min {min(contender.samples) * 1000:8.1f} ms  {median / base:5.2f}x Dovecot"
            )
    finally:
        for contender in contenders:
            contender.client.logout()
            if contender.server is not None:
                contender.server.stop()
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
