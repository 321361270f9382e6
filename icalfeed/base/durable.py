"""Replacing a file so that a crash or a power loss leaves the old one or the new one, whole.

The new bytes go to a temporary file beside the old one and are fsynced; the temporary file
is renamed over the old one and the folder is fsynced, so the rename itself is on the disk
before the call returns. Without the first fsync a power loss can leave the new name
pointing at an empty or truncated file (ext4, xfs); without the second, the old file.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path


def replace_file(
    path: Path, body: bytes, before_rename: Callable[[Path, Path], None] | None = None
) -> None:
    """Write `body` to `path` atomically and durably; `before_rename(tmp, path)` runs between
    the write and the rename (a seam for crash tests). OSError when the disk refuses; the
    temporary file is then removed and `path` is as it was."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        if before_rename is not None:
            before_rename(tmp, path)
        os.replace(tmp, path)
        sync_folder(path.parent)
    except OSError:
        with contextlib.suppress(OSError):  # a read-only disk refuses this too
            tmp.unlink(missing_ok=True)
        raise


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the names created or renamed in it survive a power loss."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
