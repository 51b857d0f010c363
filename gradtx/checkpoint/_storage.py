"""Where a save writes and how it commits: data directories, locks, garbage.

A checkpoint directory holds ``tree.json`` and the data directory it names,
``arrays-<token>/``. Each save writes into a data directory of its own, under
a fresh random token, and commits by renaming its ``tree.json`` over the old
one: one atomic rename of one file, on every POSIX filesystem. Until that
rename the old record, and the old data it names, are untouched; after it, the
new ones are complete. Data directories that no record names are garbage.

Two locks, both ``flock`` on directories (released by the kernel when a
process dies, even by SIGKILL): a writer holds its data directory's lock for
its whole life, so a lock that can be taken marks the directory of a dead
writer; and commits and garbage collection in a checkpoint directory hold that
directory's lock, so they never interleave. Where directories cannot be
locked (NFS, Lustre without ``-o flock``, some FUSE mounts), a save without
``overwrite`` commits with ``os.link`` (atomic, fails if the record exists),
and only the data of the record a commit replaced is removed: what killed
writers leave stays on disk.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import re
import shutil
import uuid
from collections.abc import Iterator

import numpy as np

from gradtx._internal import validate

try:
    import fcntl
except ImportError:  # Windows: no locks
    fcntl = None  # type: ignore[assignment]

PathLike = str | os.PathLike[str]

_DATA = re.compile(r"arrays-[0-9a-f]{32}")
# flock errors that mean "no locks here". EBADF: NFS emulates flock with fcntl
# locks, which need a file open for writing, and a directory never is.
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, errno.EBADF}


def step_dir(directory: PathLike, step: int | None, fn: str) -> pathlib.Path:
    """The directory of ``step`` (``directory`` itself for None); ``fn`` the caller."""
    path = pathlib.Path(directory).expanduser().absolute()
    if step is None:
        return path
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise validate.error(
            ValueError, fn, f"step must be an int >= 0 or None, got {step!r}."
        )
    return path / str(int(step))


def _open_dir(path: pathlib.Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY)


def _flock(fd: int, wait: bool) -> bool | None:
    """Locks ``fd``: True if locked, False if busy, None if no locks here."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError as e:
        if e.errno in _NO_LOCKS:
            return None
        raise
    return True


@contextlib.contextmanager
def locked(
    path: pathlib.Path, *, wait: bool = True, create: bool = True
) -> Iterator[bool | None]:
    """Holds ``path``'s lock, creating ``path`` if asked (see :func:`_flock`).

    A directory removed while we waited for its lock is created again and
    locked anew, so the lock is always on the directory now at ``path``.
    """
    while True:
        if create:
            path.mkdir(parents=True, exist_ok=True)
        try:
            fd = _open_dir(path)
        except FileNotFoundError:
            if create:
                continue
            raise
        try:
            state = _flock(fd, wait)
            try:
                here, held = os.stat(path), os.fstat(fd)
                same = (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)
            except FileNotFoundError:
                same = False
            if same or not create:
                yield state
                return
        finally:
            os.close(fd)


def new_data_dir(path: pathlib.Path) -> tuple[pathlib.Path, int]:
    """Creates ``path/arrays-<token>`` and locks it; call under path's lock.

    Returns the directory and the descriptor that holds its lock: close it
    when the save is over.
    """
    data = path / f"arrays-{uuid.uuid4().hex}"
    data.mkdir()
    fd = _open_dir(data)
    _flock(fd, wait=False)  # ours alone: never busy
    return data, fd


def data_dir(path: pathlib.Path, token: bytes) -> pathlib.Path:
    return path / f"arrays-{token.hex()}"


def token_of(data: pathlib.Path) -> bytes:
    return bytes.fromhex(data.name.removeprefix("arrays-"))


def sync_dir(path: pathlib.Path) -> None:
    fd = _open_dir(path)
    try:
        os.fsync(fd)
    except OSError as e:  # some filesystems cannot sync directories
        if e.errno not in (errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def write_synced(file: pathlib.Path, data: bytes) -> None:
    """Writes a new file and waits until it is on disk."""
    with open(file, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def commit(
    staged: pathlib.Path, record: pathlib.Path, overwrite: bool, lock: bool | None
) -> bool:
    """Renames the staged record into place; False if one is there already.

    Call it under the checkpoint directory's lock (``lock`` is what
    :func:`locked` gave), so two commits never interleave.
    """
    if overwrite:
        os.replace(staged, record)
    elif lock:
        if record.exists():
            return False
        os.replace(staged, record)
    else:  # no locks here: link is atomic and never replaces
        try:
            os.link(staged, record)
        except FileExistsError:
            return False
    with contextlib.suppress(OSError):  # committed: nothing after may fail
        staged.unlink(missing_ok=True)
        sync_dir(record.parent)
    return True


def _dead(data: pathlib.Path) -> bool:
    """Whether ``data``'s writer is gone (its lock is free)."""
    try:
        fd = _open_dir(data)
    except OSError:
        return False
    try:
        return _flock(fd, wait=False) is True
    finally:
        os.close(fd)


def garbage(
    path: pathlib.Path, current: str | None, replaced: str | None, lock: bool | None
) -> list[pathlib.Path]:
    """The data directories in ``path`` that no record will ever name again.

    ``current`` is the one the record names now, ``replaced`` the one named by
    the record the last commit replaced. Call under the directory's lock: with
    a lock, every other data directory whose writer is dead is garbage too.
    """
    doomed = []
    for entry in os.scandir(path):
        name = entry.name
        if name == current or not entry.is_dir(follow_symlinks=False):
            continue
        if name == replaced or (lock and _DATA.fullmatch(name) and _dead(path / name)):
            doomed.append(path / name)
    return doomed


def remove(doomed: list[pathlib.Path]) -> None:
    for d in doomed:
        shutil.rmtree(d, ignore_errors=True)


def sweep_steps(directory: pathlib.Path, skip: pathlib.Path) -> None:
    """Removes the data of dead writers in steps that have no record.

    A writer killed while it saved a new step leaves a step directory with no
    ``tree.json`` (which :func:`latest_step` ignores) and its data directory.
    """
    for entry in os.scandir(directory):
        step = pathlib.Path(entry.path)
        if not entry.name.isdigit() or step == skip or (step / "tree.json").exists():
            continue
        with (
            contextlib.suppress(OSError),
            locked(step, wait=False, create=False) as lock,
        ):
            if lock and not (step / "tree.json").exists():
                remove(garbage(step, None, None, lock))
