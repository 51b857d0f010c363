"""``restore`` and ``latest_step``: check the record, the files, then read."""

from __future__ import annotations

import pathlib
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from gradtx.checkpoint import _hooks, _storage
from gradtx.checkpoint._layout import (
    MISMATCH_HINT,
    Leaf,
    first_difference,
    is_jax,
    layout,
    size,
)
from gradtx.checkpoint._record import RECORD, decode, verify
from gradtx.errors import TreeMismatchError

_ATTEMPTS = 3  # an overwrite that lands while we read makes us read again


def _read_record(path: pathlib.Path, directory: _storage.PathLike) -> bytes:
    try:
        return (path / RECORD).read_bytes()
    except FileNotFoundError:
        pass
    step = latest_step(directory)
    hint = (
        f" It holds the steps up to {step}: pass step=gradtx.checkpoint."
        "latest_step(directory)."
        if step is not None and path == _storage.step_dir(directory, None, "restore")
        else ""
    )
    raise FileNotFoundError(
        f"No complete gradtx checkpoint in {path} (no {RECORD}; a save that was "
        f"interrupted leaves none).{hint}"
    )


def _committed(x: Any) -> bool:
    """Whether ``x`` is placed on devices of its own (else: the default one).

    jit treats committed and uncommitted arguments as different signatures, so
    a restored leaf must keep its target's kind to avoid a recompilation.
    """
    if isinstance(x, jax.Array):
        return bool(getattr(x, "committed", True))
    return isinstance(x, jax.ShapeDtypeStruct) and x.sharding is not None


def _restore_args(x: Any) -> ocp.RestoreArgs:
    """How orbax restores the leaf that ``x`` is the template of."""
    if _committed(x):
        return ocp.ArrayRestoreArgs(
            sharding=x.sharding, global_shape=x.shape, dtype=x.dtype
        )
    # Read on the host; uncommitted JAX leaves are then put on the default
    # device (what jnp does), the one transfer a restore needs anyway.
    dtype = x.dtype if is_jax(x) else np.asarray(x).dtype
    return ocp.RestoreArgs(restore_type=np.ndarray, dtype=dtype)


def _like(x: Any, target: Any) -> Any:
    """``x`` (NumPy, or a JAX array placed already) placed as ``target`` is."""
    if _committed(target):
        return x if isinstance(x, jax.Array) else jax.device_put(x, target.sharding)
    return jax.device_put(x) if is_jax(target) else x  # uncommitted: default device


def _read(path: pathlib.Path, raw: bytes, target: Any, verify_files: bool) -> Any:
    saved = decode(raw, path / RECORD)
    problem = first_difference(saved.leaves, layout(target))
    if problem:
        hint = MISMATCH_HINT.format(layout=path / RECORD)
        raise TreeMismatchError(f"{problem} {hint}")
    arrays = path / saved.arrays if saved.arrays is not None else None
    if verify_files and arrays is not None:
        verify(arrays, saved)  # before orbax reads a byte
    _hooks.reached("verified")
    leaves, treedef = jax.tree.flatten(target)
    stored = {str(i) for i, leaf in enumerate(saved.leaves) if size(leaf) > 0}
    values: dict[str, Any] = {}
    if stored and arrays is not None:
        args = {i: _restore_args(leaves[int(i)]) for i in stored}
        handler = ocp.PyTreeCheckpointHandler(use_ocdbt=False)  # reads both formats
        with ocp.Checkpointer(handler) as checkpointer:
            values = checkpointer.restore(
                arrays, args=ocp.args.PyTreeRestore(restore_args=args)
            )
    restored = [
        _like(values[str(i)] if str(i) in stored else _zeros(leaf), x)
        for i, (x, leaf) in enumerate(zip(leaves, saved.leaves, strict=True))
    ]
    return jax.tree.unflatten(treedef, restored)


def _zeros(leaf: Leaf) -> np.ndarray:
    """A leaf of size zero: its shape and dtype are all there is to it."""
    return np.zeros(leaf["shape"], np.dtype(leaf["dtype"]))


def restore(
    directory: _storage.PathLike,
    target: Any,
    *,
    step: int | None = None,
    verify: bool = True,
) -> Any:
    """Restores a checkpoint written by :func:`save`, in ``target``'s image.

    ``target`` is a template: a tree like the one saved, with the structure,
    dtypes and shardings the result must have (its values are not read). Build
    it the way the saved tree was built, e.g. ``(params, tx.init(params))``,
    or without allocating, ``jax.eval_shape(lambda: (params, tx.init(params)))``.
    The result has exactly ``target``'s tree structure (NamedTuple types,
    ``None`` and empty states included), dtypes and shardings: a leaf that is
    a :class:`jax.Array` comes back with the same sharding, and committed to
    its devices only if the target leaf is (``jax.jit`` compiles anew for an
    argument that is committed where it was not); a
    :class:`jax.ShapeDtypeStruct` with its sharding (uncommitted on the default
    device when it has none); a NumPy array or Python number as a NumPy array.
    So the restored state drops into a jitted step without recompiling, and
    training resumes bit for bit.

    Before orbax reads anything, the layout is compared with ``target``'s and
    every file is checked against the SHA-256 that :func:`save` recorded, so a
    damaged checkpoint is an error that names the file, never wrong values.
    If another process overwrites the checkpoint meanwhile, the restore starts
    again and returns the new checkpoint, whole.

    Args:
      directory: the directory passed to :func:`save`.
      target: the template tree.
      step: the ``step`` passed to :func:`save`, if any.
      verify: check the files' checksums. It reads every file once more,
        which adds about a third to a restore from the page cache (50 ms per
        100 MB on one core). Checkpoints of format version 1 (gradtx before
        checksums) have none and are restored unchecked.

    Returns:
      The restored tree.

    Raises:
      TreeMismatchError: the checkpoint's layout differs from ``target``'s (a
        leaf path, container type, shape or dtype); the message names the first
        differing path, what the checkpoint has there and what the target
        expects.
      CheckpointCorruptError: a file of the checkpoint is damaged, truncated
        or missing, or ``tree.json`` is; the message names the file and the
        leaves it holds.
      FileNotFoundError: no complete checkpoint is at that place.

    Example:
      >>> import tempfile
      >>> import jax.numpy as jnp
      >>> import gradtx
      >>> from gradtx import checkpoint
      >>> params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
      >>> tx = gradtx.adam(1e-3)
      >>> state = tx.update(params, tx.init(params), params)[1]
      >>> directory = checkpoint.save(tempfile.mkdtemp(), (params, state))
      >>> params, state = checkpoint.restore(directory, (params, tx.init(params)))
      >>> gradtx.tree_get(state, "count")
      Array(1, dtype=int32)

      Another optimizer's state does not fit, and the error says where:

      >>> sgd = gradtx.sgd(1e-3, momentum=0.9)
      >>> checkpoint.restore(directory, (params, sgd.init(params)))
      Traceback (most recent call last):
        ...
      gradtx.errors.TreeMismatchError: tree[1][0].count: the checkpoint has
      int32[] here, the target has no leaf at this path (its leaf in that place
      is tree[1][1].trace['b']). ...
    """
    path = _storage.step_dir(directory, step, "restore")
    for attempt in range(_ATTEMPTS):
        raw = _read_record(path, directory)
        try:
            return _read(path, raw, target, verify)
        except Exception:
            try:
                replaced = (path / RECORD).read_bytes() != raw
            except OSError:
                replaced = True
            if not replaced or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def latest_step(directory: _storage.PathLike) -> int | None:
    """Returns the highest ``step`` with a complete checkpoint in ``directory``.

    ``None`` when there is none (or the directory does not exist), so a
    training script can start fresh or resume with the same code. A step
    whose save was interrupted has no ``tree.json`` and does not count.

    Example:
      >>> import tempfile
      >>> from gradtx import checkpoint
      >>> print(checkpoint.latest_step(tempfile.mkdtemp()))
      None
    """
    path = _storage.step_dir(directory, None, "latest_step")
    if not path.is_dir():
        return None
    steps = [
        int(p.name)
        for p in path.iterdir()
        if p.name.isdigit() and (p / RECORD).is_file()
    ]
    return max(steps, default=None)
