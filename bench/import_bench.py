"""`buzon import` of a generated mbox: messages per second (the issue's target: 1,000).

Writes N messages of the benchmark corpus (bench/corpus.py) to an mbox file, creates a
user, then times `buzon import USER FILE` as a subprocess, the way an administrator runs
it. The mbox writing is not timed.

    .venv/bin/python -m bench.import_bench --messages 100000
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.corpus import message
from buzon.cli.mbox import write_message

_CONFIG = """[auth]
argon2_time_cost = 1
argon2_memory_kib = 1024
argon2_parallelism = 1
"""


def write_mbox(path: Path, count: int, seed: int) -> int:
    """The corpus as an mbox, written by Buzón's own exporter; returns its size."""
    with path.open("wb") as out:
        for index in range(count):
            msg = message(seed, index)
            # mbox files conventionally use LF line ends; import stores CRLF.
            write_message(out, msg.content.replace(b"\r\n", b"\n"), msg.internal_date)
    return path.stat().st_size


def buzon(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "buzon.cli.main", *args],
        input=stdin,
        capture_output=True,
        check=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="buzon-import-bench-"))
    try:
        mbox = work / "corpus.mbox"
        size = write_mbox(mbox, args.messages, args.seed)
        config = work / "buzon.toml"
        config.write_text(_CONFIG)
        common = ("--data-dir", str(work / "data"), "--config", str(config))
        buzon("user", "add", "bench", *common, "--password-stdin", stdin=b"benchpass\n")
        started = time.perf_counter()
        result = buzon("import", "bench", str(mbox), *common)
        elapsed = time.perf_counter() - started
        rate = args.messages / elapsed
        print(result.stdout.decode().strip())
        print(
            f"| `buzon import` of a {size / 1e6:,.0f} MB mbox | {args.messages:,} messages |"
            f" {elapsed:,.1f} s | {rate:,.0f} messages/s |"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
