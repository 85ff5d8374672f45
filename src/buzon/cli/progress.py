"""Progress of a long transfer on stderr, and the summary at its end.

On a terminal one line is rewritten in place (at most ten times a second); otherwise
(a log file, a pipe) a plain line is printed every `interval` seconds. Both show
messages, bytes, the rate and, when the total is known, an estimate of the time left.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    """Counts messages, bytes and folders; reports while counting and at the end."""

    def __init__(
        self,
        verb: str,
        *,
        total_bytes: int | None = None,
        total_messages: int | None = None,
        stream: TextIO | None = None,
        interval: float = 10.0,
    ) -> None:
        self.verb = verb
        self.total_bytes = total_bytes
        self.total_messages = total_messages
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.interval = 0.1 if self.tty else interval
        self.messages = 0
        self.bytes = 0
        self.folders: set[str] = set()
        self.skipped = 0
        self.started = time.monotonic()
        self._last = self.started

    def skipped_bytes(self, n: int) -> None:
        """Bytes a resumed run does not read again: out of the estimate."""
        if self.total_bytes is not None:
            self.total_bytes = max(self.total_bytes - n, 0)

    def folder(self, name: str) -> None:
        self.folders.add(name)

    def add(self, messages: int, nbytes: int) -> None:
        self.messages += messages
        self.bytes += nbytes
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._show(now)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-6)
        rate = self.messages / elapsed
        text = (
            f"{self.messages:,} messages, {human_bytes(self.bytes)},"
            f" {rate:,.0f} msg/s, {human_bytes(self.bytes / elapsed)}/s"
        )
        eta: float | None = None
        if self.total_bytes and self.bytes:
            eta = elapsed * max(self.total_bytes - self.bytes, 0) / self.bytes
        elif self.total_messages and self.messages:
            eta = elapsed * max(self.total_messages - self.messages, 0) / self.messages
        if eta is not None:
            text += f", ETA {clock(eta)}"
        return text

    def _show(self, now: float) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line(now))
        else:
            self.stream.write(self.line(now) + "\n")
        self.stream.flush()

    def summary(self) -> str:
        """One line for stdout: what was done, how big, how fast."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        folders = len(self.folders)
        text = (
            f"{self.verb} {self.messages:,} messages in {folders} folder"
            f"{'' if folders == 1 else 's'}, {human_bytes(self.bytes)} in {elapsed:.1f} s"
            f" ({self.messages / elapsed:,.0f} messages/s)"
        )
        if self.skipped:
            text += f"; {self.skipped:,} already done before"
        return text

    def finish(self) -> str:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        return self.summary()
