"""The lock of an output folder: one run at a time, and who holds it.

A run holds an exclusive ``flock`` on ``<folder>/.geoplan.lock`` and records
in it who it is (pid, host, start, command) for the error a second run gets;
the kernel releases the lock when the process dies, so a lock file left
behind never blocks.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from geoplan.geo.errors import OutputError, OutputLockedError
from geoplan.geo.output_files import one_line, os_reason, unwritable

#: The lock file of an output folder.
LOCK_NAME = ".geoplan.lock"
_HOLDER_TRIES = 20  # 50 ms apart: a run records itself right after taking the lock


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock, recording this run in the lock file; remove it after."""
    path = folder / LOCK_NAME
    fd = _acquire(folder, path)
    try:
        _record_holder(folder, fd)
        yield
    finally:
        # removed while still held: a run that opened the old file sees it is gone and retries
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _acquire(folder: Path, path: Path) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise unwritable(folder, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise OutputLockedError(
                f"{folder}: is being written by another geoplan run ({holder})"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise OutputError(
                f"{folder}: cannot lock the output folder: {os_reason(exc)}"
            ) from None
        if _is_at(fd, path):
            return fd
        os.close(fd)  # the holder removed the file while we opened it: take the new one


def _is_at(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is still the file at ``path``."""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _record_holder(folder: Path, fd: int) -> None:
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S}",
        "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record, ensure_ascii=False).encode("utf-8"), 0)
        os.fsync(fd)  # on a full disk this is where it shows, before any work is done
    except OSError as exc:
        raise unwritable(folder, exc) from None


def _holder(fd: int) -> str:
    """Who holds the lock, as its record says, on one line."""
    for _ in range(_HOLDER_TRIES):
        try:
            record = json.loads(os.pread(fd, 4096, 0))
            pid, host = int(record["pid"]), one_line(record["host"])
            started, command = one_line(record["started"]), one_line(record["command"])
        except (ValueError, KeyError, TypeError, OSError):
            time.sleep(0.05)  # it may be writing its record right now
            continue
        return f"pid {pid} on {host}, started {started}: {command}"
    return "it has not recorded who it is"
