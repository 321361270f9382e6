"""Advisory file locks, so several processes can share one data dir safely."""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .disclosure import storage_reason

log = logging.getLogger(__name__)


class DataDirError(OSError):
    """A file of the data dir cannot be opened or written (a read-only or full disk, a folder
    where the file should be).

    Its text is the short public reason (``storage: read-only``); `errno` is the system's,
    and the path with the system's words is in the log.
    """

    def __str__(self) -> str:
        return str(self.strerror)


@contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on `path` for the block; yields False if not acquired.

    The lock dies with the process, so a crashed holder never blocks the others.
    `DataDirError` when the lock file cannot be opened.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        log.warning("cannot open the lock file %s: %s", path, exc.strerror or exc)
        raise DataDirError(exc.errno, storage_reason(exc)) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
