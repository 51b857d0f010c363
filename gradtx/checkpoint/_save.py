"""``save``: check the tree, write it beside the old checkpoint, commit atomically."""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import shutil
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from gradtx.checkpoint import _hooks, _storage
from gradtx.checkpoint._layout import Leaf, check_storable, is_jax, layout, size
from gradtx.checkpoint._record import RECORD, data_dir_of, encode, hash_files

_EXISTS = (
    "{path} already holds a checkpoint. Pass overwrite=True to replace it, or "
    "save(..., step=step) to keep one checkpoint per step."
)
_UNTOUCHED = (
    "Nothing was changed: the checkpoint that was there, if any, is intact, "
    "and nothing of this save is left behind."
)


class _NoMergeWarning(logging.Filter):
    """Drops orbax's warning that a checkpoint without OCDBT has nothing to merge."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Skipping merge of OCDBT checkpoints" not in str(record.msg)


def _quiet_orbax() -> None:
    logger = logging.getLogger("absl")
    if not any(isinstance(f, _NoMergeWarning) for f in logger.filters):
        logger.addFilter(_NoMergeWarning())


def save(
    directory: _storage.PathLike,
    tree: Any,
    *,
    step: int | None = None,
    overwrite: bool = False,
) -> pathlib.Path:
    """Saves a pytree of arrays (params, optimizer state, both) to ``directory``.

    The arrays are written by orbax exactly as they are (dtype, every bit,
    each process its own shards); ``tree.json`` records the layout that
    :func:`restore` checks and a SHA-256 of every file. The call blocks until
    the checkpoint is complete and on disk.

    The save is atomic: it writes into a directory of its own beside the
    checkpoint and commits with one rename, so an error, a full disk or a
    ``kill -9`` at any moment leaves the previous checkpoint or the new one,
    complete. Two processes saving to the same place never mix their leaves:
    without ``overwrite`` the second fails with :class:`FileExistsError`, with
    it the last to commit wins.

    Args:
      directory: where to write; created if needed. With ``step``, the
        checkpoint goes to the subdirectory ``directory/<step>``.
      tree: any pytree of JAX arrays, NumPy arrays or Python numbers: params,
        a gradtx (or optax) optimizer state, a tuple of both. ``None`` leaves,
        ``EmptyState`` and ``MaskedNode`` are empty subtrees and are kept, and
        so are leaves of size zero.
      step: optional training step, to keep several checkpoints side by side
        (see :func:`latest_step`).
      overwrite: replace a checkpoint already at that place.

    Returns:
      The checkpoint's directory.

    Raises:
      FileExistsError: a checkpoint is already there and ``overwrite`` is False.
      TypeError: a leaf is not an array or a number, or has a dtype orbax
        cannot write (e.g. ``uint4``); nothing is written.
      ValueError: ``step`` is not an int >= 0, or a leaf is a deleted
        (donated) array; nothing is written.
      OSError: the disk refused a write (full, read-only...); the message
        names the checkpoint, and the previous checkpoint is intact.

    Example:
      >>> import tempfile
      >>> import jax.numpy as jnp
      >>> import gradtx
      >>> from gradtx import checkpoint
      >>> params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
      >>> tx = gradtx.adam(1e-3)
      >>> directory = tempfile.mkdtemp()
      >>> path = checkpoint.save(directory, (params, tx.init(params)), step=100)
      >>> path.name, checkpoint.latest_step(directory)
      ('100', 100)
    """
    path = _storage.step_dir(directory, step, "save")
    leaves = layout(tree)
    check_storable(tree, leaves)
    if not overwrite and (path / RECORD).exists():
        raise FileExistsError(_EXISTS.format(path=path))
    _hooks.reached("validated")
    stored = {
        str(i): x if is_jax(x) else np.asarray(x)
        for i, (x, leaf) in enumerate(zip(jax.tree.leaves(tree), leaves, strict=True))
        if size(leaf) > 0  # orbax refuses empty arrays: the layout rebuilds them
    }
    step = None if step is None else int(step)
    meta = {"step": step, "treedef": str(jax.tree.structure(tree)), "leaves": leaves}
    try:
        _save(path, stored, meta, overwrite)
    except FileExistsError:
        raise
    except OSError as e:
        msg = f"Saving a checkpoint to {path} failed: {e.strerror or e}. {_UNTOUCHED}"
        raise OSError(e.errno, msg, e.filename) from e
    except Exception as e:
        e.add_note(f"Saving a checkpoint to {path} failed. {_UNTOUCHED}")
        raise
    return path


def _from_primary(value: bytes) -> bytes:
    """``value`` as process 0 has it, on every process (a barrier, too)."""
    if jax.process_count() == 1:
        return value
    from jax.experimental import multihost_utils

    got = multihost_utils.broadcast_one_to_all(np.frombuffer(value, np.uint8))
    return bytes(np.asarray(got, np.uint8))


def _save(
    path: pathlib.Path, stored: dict[str, Any], meta: dict[str, Any], overwrite: bool
) -> None:
    """Writes and commits; on any failure before the commit, removes its data.

    Process 0 creates the data directory, every process writes its shards
    there through orbax, and process 0 hashes the files and commits.
    """
    primary = jax.process_index() == 0
    created = not path.exists()
    data: pathlib.Path | None = None
    fd: int | None = None
    committed = False
    error: BaseException | None = None
    try:
        failed: BaseException | None = None
        if primary:
            try:
                with _storage.locked(path):
                    data, fd = _storage.new_data_dir(path)
            except BaseException as e:  # tell the others before raising
                failed = e
        token = _from_primary(_storage.token_of(data) if data else bytes(16))
        if failed is not None:
            raise failed
        if token == bytes(16):
            raise RuntimeError(f"Process 0 could not create a directory in {path}.")
        data = _storage.data_dir(path, token)
        _hooks.reached("locked")
        arrays = data / "orbax" if stored else None
        if arrays is not None:
            _quiet_orbax()
            handler = ocp.PyTreeCheckpointHandler(use_ocdbt=False)  # a file: a leaf
            with ocp.Checkpointer(handler) as checkpointer:  # blocks until written
                checkpointer.save(arrays, args=ocp.args.PyTreeSave(stored))
        _hooks.reached("arrays")
        if primary:
            committed = _commit(path, data, arrays, meta, overwrite)
            if not committed:
                error = FileExistsError(_EXISTS.format(path=path))
    except BaseException as e:
        error = e
    finally:
        if fd is not None:
            os.close(fd)  # the writer's lock: its data is now garbage or live
        if primary and not committed and data is not None:
            _discard(path, data, created)
    if jax.process_count() > 1:  # tell the others how the commit went
        ok = _from_primary(b"\1" if committed else b"\0") == b"\1"
        if not ok and error is None:
            error = RuntimeError(f"Process 0 could not commit {path}: see its log.")
    if error is not None:
        raise error


def _commit(
    path: pathlib.Path,
    data: pathlib.Path,
    arrays: pathlib.Path | None,
    meta: dict[str, Any],
    overwrite: bool,
) -> bool:
    """Hashes and syncs the files, then renames the record into place.

    Returns False, and changes nothing, if a record is there already and
    ``overwrite`` is False.
    """
    leaves: list[Leaf] = meta["leaves"]
    stored = {str(i) for i, leaf in enumerate(leaves) if size(leaf) > 0}

    def leaf_of(file: str) -> int | None:  # orbax writes leaf i under "i/"
        top = file.split("/")[0]
        return int(top) if top in stored else None

    files = hash_files(arrays, leaf_of) if arrays is not None else []
    name = f"{data.name}/orbax" if arrays is not None else None
    staged = data / RECORD
    _storage.write_synced(
        staged, encode(meta["step"], meta["treedef"], leaves, name, files)
    )
    _storage.sync_dir(data)
    _hooks.reached("staged")
    record = path / RECORD
    with _storage.locked(path) as lock:
        try:
            replaced = data_dir_of(record.read_bytes())
        except OSError:
            replaced = None
        if not _storage.commit(staged, record, overwrite, lock):
            return False
        _hooks.reached("committed")
        doomed = [] if arrays is not None else [data]
        with contextlib.suppress(OSError):
            current = data.name if arrays is not None else None
            doomed += _storage.garbage(path, current, replaced, lock)
    _storage.remove(doomed)
    if meta["step"] is not None:
        with contextlib.suppress(OSError):
            _storage.sweep_steps(path.parent, path)
    _hooks.reached("cleaned")
    return True


def _discard(path: pathlib.Path, data: pathlib.Path, created: bool) -> None:
    """Removes what a failed save wrote: its data, and ``path`` if it made it.

    Unless the record names that data: an interrupt (Ctrl-C) that lands just
    after the commit must not delete the checkpoint it made.
    """
    with contextlib.suppress(OSError):
        if data_dir_of((path / RECORD).read_bytes()) == data.name:
            return
    shutil.rmtree(data, ignore_errors=True)
    if created:
        with contextlib.suppress(OSError), _storage.locked(path, create=False):
            path.rmdir()  # only if empty: another writer may be using it
