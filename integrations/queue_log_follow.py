"""Following a live Asterisk queue_log: every complete line sent once, across rotation and restarts.

The position (the file's inode and the offset after the last line sent) is saved only after the
server has accepted a batch, so a crash re-sends at most one batch, whose event ids the core then
counts as duplicates: nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from integrations.asterisk import QueueLogReader
from integrations.base import PayloadError

#: The largest batch the events API takes.
MAX_EVENTS = 1000


@dataclass
class Position:
    inode: int
    offset: int
    #: The calls still open after the last line sent (QueueLogReader.state()).
    open_calls: dict[str, Any] = field(default_factory=dict)


def load_position(path: Path) -> Position | None:
    try:
        data = json.loads(path.read_text())
        open_calls = data.get("open_calls")
        return Position(
            int(data["inode"]),
            int(data["offset"]),
            open_calls if isinstance(open_calls, dict) else {},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save_position(path: Path, position: Position) -> None:
    """Write the position atomically: a crash leaves the old or the new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(
            {"inode": position.inode, "offset": position.offset, "open_calls": position.open_calls},
            fh,
        )
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _rotated_with_inode(path: Path, inode: int) -> Path | None:
    """The rotated file (queue_log.1, queue_log-20240601 ...) that still has ``inode``."""
    for candidate in sorted(path.parent.glob(path.name + "*")):
        if candidate == path or candidate.suffix in (".gz", ".bz2", ".xz", ".zst"):
            continue
        try:
            if candidate.stat().st_ino == inode:
                return candidate
        except OSError:
            continue
    return None


def events_of(
    lines: list[str], warn: Callable[[str], None], reader: QueueLogReader | None = None
) -> list[dict[str, Any]]:
    """The events of complete lines; an unreadable line is reported and skipped, not fatal."""
    reader = reader if reader is not None else QueueLogReader()
    events: list[dict[str, Any]] = []
    for line in lines:
        try:
            events += reader.events(line)
        except PayloadError as exc:
            warn(f"skipped a queue_log line ({exc}): {line.strip()[:200]}")
    return events


class QueueLogFollower:
    """Reads new complete lines of a queue_log and hands their events to ``send``."""

    def __init__(
        self,
        path: str | Path,
        state_path: str | Path,
        send: Callable[[list[dict[str, Any]]], object],
        *,
        batch_lines: int = MAX_EVENTS,
        from_end: bool = False,
        warn: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
    ) -> None:
        self.path = Path(path)
        self.state_path = Path(state_path)
        self.send = send
        self.batch_lines = batch_lines
        self.warn = warn
        #: Without a saved position, start at the end (history is for ``asterisk import``).
        self.from_end = from_end
        self._file: IO[bytes] | None = None
        self._inode = 0
        self.reader = QueueLogReader()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self, path: Path, offset: int) -> bool:
        try:
            fh = open(path, "rb")  # kept open across steps: rotation renames, not closes
        except FileNotFoundError:
            return False
        self.close()
        self._file = fh
        self._inode = os.fstat(fh.fileno()).st_ino
        size = os.fstat(fh.fileno()).st_size
        fh.seek(offset if offset <= size else 0)
        return True

    def _start(self) -> bool:
        """Open where the last run stopped, finishing a file rotated away while it was down."""
        saved = load_position(self.state_path)
        if saved is not None:
            self.reader = QueueLogReader(saved.open_calls)
        try:
            current = self.path.stat().st_ino
        except FileNotFoundError:
            current = None
        if saved is None:
            if not self._open(self.path, 0):
                return False
            if self.from_end:
                assert self._file is not None
                self._file.seek(0, os.SEEK_END)
                # Only whole lines: back up to just after the last newline.
                self._file.seek(self._last_line_end())
            return True
        if saved.inode == current:
            return self._open(self.path, saved.offset)
        rotated = _rotated_with_inode(self.path, saved.inode)
        if rotated is not None and self._open(rotated, saved.offset):
            return True
        self.warn(f"{self.path}: the file read before is gone; starting the new one from its start")
        return self._open(self.path, 0)

    def _last_line_end(self) -> int:
        assert self._file is not None
        end = self._file.tell()
        self._file.seek(max(0, end - 65536))
        chunk = self._file.read(end - self._file.tell())
        cut = chunk.rfind(b"\n")
        return end - len(chunk) + cut + 1 if cut >= 0 else max(0, end - len(chunk))

    def _lines(self) -> Iterator[list[bytes]]:
        """Batches of complete lines from the open file's offset on."""
        assert self._file is not None
        batch: list[bytes] = []
        while True:
            start = self._file.tell()
            line = self._file.readline()
            if not line.endswith(b"\n"):
                # A half-written line waits for its end.
                self._file.seek(start)
                break
            batch.append(line)
            if len(batch) >= self.batch_lines:
                yield batch
                batch = []
        if batch:
            yield batch

    def step(self) -> int:
        """Send everything complete that is there now; the number of lines read."""
        if self._file is None and not self._start():
            return 0
        assert self._file is not None
        count = 0
        while True:
            for batch in self._lines():
                lines = [b.decode("utf-8", errors="replace") for b in batch]
                before = self.reader.state()
                events = events_of(lines, self.warn, self.reader)
                try:
                    for i in range(0, len(events), MAX_EVENTS):
                        self.send(events[i : i + MAX_EVENTS])
                except BaseException:
                    # Not sent: these lines are read again, from the calls open before them.
                    self.reader = QueueLogReader(before)
                    raise
                count += len(batch)
                save_position(
                    self.state_path,
                    Position(self._inode, self._file.tell(), self.reader.state()),
                )
            if not self._switch_if_rotated():
                return count

    def _switch_if_rotated(self) -> bool:
        """At the end of the open file: move to a new file at the path, or back to the start
        of a truncated one. True when there is another file (or offset) to read."""
        assert self._file is not None
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return False  # rotated away and not yet recreated: wait
        if stat.st_ino != self._inode:
            self._open(self.path, 0)
            save_position(self.state_path, Position(self._inode, 0, self.reader.state()))
            return True
        if stat.st_size < self._file.tell():
            self.warn(f"{self.path} was truncated; reading it from its start")
            self._file.seek(0)
            return True
        return False

    def run(self, *, interval: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
        """Follow until ``stop()`` says so."""
        try:
            while not stop():
                if self.step() == 0:
                    time.sleep(interval)
        finally:
            self.close()
