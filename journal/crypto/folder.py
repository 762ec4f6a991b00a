"""The key folder's lock: one writer at a time, across threads, processes and servers.

The key folder (the master key file, the backup keys, the erasure ledger) may sit on
storage that every app server mounts. Its writers (an erasure appending to the
ledger and deleting a backup key, a backup catching up, `keys retire-backups`) take
this lock first. It is a POSIX record lock (`lockf`) on a file of its own,
`keys.lock`, opened for writing: over NFS that is the kind of lock the server
arbitrates between clients, where `flock` on the folder itself is not (NFS refuses
an exclusive lock on a file not opened for writing, and a folder cannot be). POSIX
locks belong to a process, so threads of one process queue on a lock of their own
first.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "keys.lock"

_in_process = threading.Lock()


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the key folder's lock (waiting for it) while the block runs."""
    with _in_process:
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def append_line(path: Path, line: str) -> None:
    """Append one line to a file of the key folder, under its lock, on disk before
    returning (the file's contents and, when the append created it, the folder's
    entry for it)."""
    with locked(path.parent):
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, f"{line}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so a file created or renamed in it survives a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
