"""Safe file handling shared by every module: atomic writes, JSON reads that name the file, the run lock.

A file a later run trusts (checkpoint, run record, cache entry, report) is written to a temporary file in the
same folder, flushed, fsynced and renamed over the target, so a reader sees the old file or the new one, never
half of one. A run directory is locked by the process writing it (`run_lock`).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path

LOCK_NAME = ".lock"


class RunLockedError(RuntimeError):
    """Another live process holds the run directory's lock."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; when the block succeeds it is fsynced and renamed onto `path`.

    For writers that want a file name (`torch.save`, `np.save`). On an error the temporary file is removed and
    `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename inside `folder` durable (a no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically (temporary file, flush, fsync, rename)."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike, obj, indent: int | None = 2) -> Path:
    """Write `obj` as JSON (with a final newline) to `path` atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=indent) + "\n")


def read_json(path: str | os.PathLike, advice: str = "repair or delete it"):
    """Parse the JSON file `path`; a damaged file is a ValueError naming it and what to do (`advice`)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}); {advice}") from err


# ------------------------------------------------------------------------------------------ the run lock
def lock_holder(run_dir: str | os.PathLike) -> int | None:
    """Pid written in `run_dir/.lock` by the last process that took it (None when absent or unreadable)."""
    try:
        return int((Path(run_dir) / LOCK_NAME).read_text().strip())
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def run_lock(run_dir: str | os.PathLike):
    """Hold an exclusive lock on `run_dir` (created if needed) for the block; a second writer fails at once.

    The lock is `fcntl.flock` on `run_dir/.lock`, which holds the owner's pid. The kernel releases it when its
    process dies, so the lock of a killed run is simply taken over; the file itself stays.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    lock_file = run_dir / LOCK_NAME
    handle = open(lock_file, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = lock_holder(run_dir)
            raise RunLockedError(f"{run_dir} is in use by process {holder} (lock {lock_file}); wait for it to finish, "
                                 "stop it, or use another run directory") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield run_dir
    finally:
        handle.close()  # closing the descriptor releases the flock
