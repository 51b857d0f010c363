"""Save and restore params and optimizer state: ``save``, ``restore``, ``latest_step``.

The arrays go through `orbax-checkpoint <https://orbax.readthedocs.io>`_
(``orbax.checkpoint.PyTreeCheckpointer``), which writes them exactly, bit
for bit, shard by shard. Next to them, ``tree.json`` describes the tree that
was saved: every leaf's path (in :func:`jax.tree_util.keystr` form), shape and
dtype, and the containers along the path (``ScaleByAdamState``, ``dict``...).
A checkpoint directory looks like this::

    directory/            # or directory/<step>/ with save(..., step=step)
      tree.json           # the layout, written last: it marks a complete save
      arrays/             # orbax's files, one array per leaf

:func:`restore` compares the layout with the target's before orbax reads
anything, so restoring into another optimizer, into hyperparameters that
change the state (a ``mu_dtype``, a mask, momentum on or off) or into params
of other shapes is a :class:`~gradtx.errors.TreeMismatchError` that names the
first differing path, instead of an error from deep inside orbax or, worse, a
silently wrong state. What the layout cannot show is a change of a
hyperparameter that keeps it (``b1=0.9`` vs ``b1=0.95``): store those with
your config.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from gradtx.errors import TreeMismatchError

__all__ = ["latest_step", "restore", "save"]

PathLike = str | os.PathLike[str]

_FORMAT = "gradtx.checkpoint"
_VERSION = 1
_LAYOUT_FILE = "tree.json"
_ARRAYS_DIR = "arrays"

_MISMATCH_HINT = (
    "Restore into a target built like the saved tree: the same optimizer with "
    "the same state-shaping hyperparameters (mu_dtype, masks, momentum...), "
    "initialized on params of the same shapes and dtypes, e.g. "
    "`restore(directory, (params, tx.init(params)))`. The checkpoint's layout "
    "is listed in {layout}."
)


# --- the layout: one record per leaf ------------------------------------------


def _containers(treedef: Any) -> list[list[str]]:
    """For each leaf, the type names of the containers from the root down."""
    data = treedef.node_data()
    if data is None:  # a leaf
        return [[]]
    name = data[0].__name__
    return [
        [name, *rest] for child in treedef.children() for rest in _containers(child)
    ]


def _is_jax(x: Any) -> bool:
    return isinstance(x, jax.Array | jax.ShapeDtypeStruct)


def _shape_dtype(x: Any, path: str) -> tuple[list[int], str]:
    if _is_jax(x):
        return [int(d) for d in x.shape], str(x.dtype)
    if isinstance(x, np.ndarray | np.generic | bool | int | float | complex):
        arr = np.asarray(x)
        return list(arr.shape), str(arr.dtype)
    raise TypeError(
        f"tree{path} is a {type(x).__name__}, not an array: checkpoints hold "
        "pytrees of JAX or NumPy arrays (or Python numbers). Leave other "
        "objects out of the tree and save them with your config."
    )


def _layout(tree: Any) -> list[dict[str, Any]]:
    """Describes ``tree``: per leaf its path keys, containers, shape and dtype."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
    records = []
    for (path, x), nodes in zip(leaves, _containers(treedef), strict=True):
        keys = [jax.tree_util.keystr((k,)) for k in path]
        shape, dtype = _shape_dtype(x, "".join(keys))
        records.append({"keys": keys, "nodes": nodes, "shape": shape, "dtype": dtype})
    return records


def _spec(record: dict[str, Any]) -> str:
    """``float32[3,2]``, as :func:`gradtx.errors.spec` prints it."""
    return f"{record['dtype']}[{','.join(str(d) for d in record['shape'])}]"


def _first_difference(saved: list[dict[str, Any]], target: list[dict[str, Any]]) -> str:
    """Describes the first leaf where two layouts differ ("" if they match)."""
    saved_paths = {"".join(r["keys"]) for r in saved}
    target_paths = {"".join(r["keys"]) for r in target}
    for i in range(max(len(saved), len(target))):
        if i >= len(target):
            return _extra(saved[i], None)
        if i >= len(saved):
            return _missing(target[i], None)
        s, t = saved[i], target[i]
        if s == t:
            continue
        # A container of another type on the common part of the path.
        for j, (s_node, t_node) in enumerate(zip(s["nodes"], t["nodes"], strict=False)):
            if s_node != t_node:
                where = "".join(t["keys"][:j])
                return (
                    f"tree{where}: the checkpoint has a {s_node} here, the target "
                    f"expects a {t_node}."
                )
            if s["keys"][j] != t["keys"][j]:
                break
        s_path, t_path = "".join(s["keys"]), "".join(t["keys"])
        if s_path not in target_paths:
            return _extra(s, t)
        if t_path not in saved_paths:
            return _missing(t, s)
        if s_path != t_path:
            return (
                f"tree{t_path}: the checkpoint has the same leaves in another "
                f"order (leaf {i} is tree{s_path} in the checkpoint)."
            )
        # Same path, same containers: the shape or the dtype differs.
        got, want = _spec(s), _spec(t)
        return f"tree{t_path}: the checkpoint has {got}, the target expects {want}."
    return ""


def _where(record: dict[str, Any] | None) -> str:
    """What the other tree has at the same leaf position."""
    if record is None:
        return " (it has fewer leaves)"
    return f" (its leaf in that place is tree{''.join(record['keys'])})"


def _extra(record: dict[str, Any], target: dict[str, Any] | None) -> str:
    return (
        f"tree{''.join(record['keys'])}: the checkpoint has {_spec(record)} here, "
        f"the target has no leaf at this path{_where(target)}."
    )


def _missing(record: dict[str, Any], saved: dict[str, Any] | None) -> str:
    return (
        f"tree{''.join(record['keys'])}: the checkpoint has no leaf at this "
        f"path{_where(saved)}, the target expects {_spec(record)}."
    )


# --- save, restore, latest_step ------------------------------------------------


def _step_dir(directory: PathLike, step: int | None) -> pathlib.Path:
    path = pathlib.Path(directory).expanduser().absolute()
    if step is None:
        return path
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise ValueError(f"step must be an int >= 0 or None, got {step!r}.")
    return path / str(int(step))


def save(
    directory: PathLike,
    tree: Any,
    *,
    step: int | None = None,
    overwrite: bool = False,
) -> pathlib.Path:
    """Saves a pytree of arrays (params, optimizer state, both) to ``directory``.

    The arrays are written by orbax exactly as they are (dtype, every bit,
    each process its own shards); ``tree.json`` records the layout that
    :func:`restore` checks. The call blocks until the checkpoint is complete.

    Args:
      directory: where to write; created if needed. With ``step``, the
        checkpoint goes to the subdirectory ``directory/<step>``.
      tree: any pytree of JAX arrays, NumPy arrays or Python numbers: params,
        a gradtx (or optax) optimizer state, a tuple of both. ``None`` leaves,
        ``EmptyState`` and ``MaskedNode`` are empty subtrees and are kept.
      step: optional training step, to keep several checkpoints side by side
        (see :func:`latest_step`).
      overwrite: replace a checkpoint already at that place.

    Returns:
      The checkpoint's directory.

    Raises:
      FileExistsError: a checkpoint is already there and ``overwrite`` is False.
      TypeError: a leaf is not an array or a number.
      ValueError: ``step`` is not an int >= 0.

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
    path = _step_dir(directory, step)
    layout_file, arrays_dir = path / _LAYOUT_FILE, path / _ARRAYS_DIR
    if not overwrite and (layout_file.exists() or arrays_dir.exists()):
        raise FileExistsError(
            f"{path} already holds a checkpoint. Pass overwrite=True to replace "
            "it, or save(..., step=step) to keep one checkpoint per step."
        )
    layout = _layout(tree)
    primary = jax.process_index() == 0
    path.mkdir(parents=True, exist_ok=True)
    if primary:
        layout_file.unlink(missing_ok=True)  # an old checkpoint is now incomplete
    leaves = jax.tree.leaves(tree)
    if leaves:
        arrays = {
            str(i): x if _is_jax(x) else np.asarray(x) for i, x in enumerate(leaves)
        }
        with ocp.PyTreeCheckpointer() as checkpointer:  # blocks until written
            checkpointer.save(
                arrays_dir, args=ocp.args.PyTreeSave(arrays), force=overwrite
            )
    if primary:
        meta = {
            "format": _FORMAT,
            "version": _VERSION,
            "step": None if step is None else int(step),
            "treedef": str(jax.tree.structure(tree)),
            "leaves": layout,
        }
        tmp = layout_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, layout_file)  # atomic: the checkpoint is complete
    return path


def _read_layout(path: pathlib.Path, directory: PathLike) -> list[dict[str, Any]]:
    layout_file = path / _LAYOUT_FILE
    if not layout_file.exists():
        step = latest_step(directory)
        hint = (
            f" It holds the steps up to {step}: pass step=gradtx.checkpoint."
            "latest_step(directory)."
            if step is not None and path == _step_dir(directory, None)
            else ""
        )
        raise FileNotFoundError(
            f"No complete gradtx checkpoint in {path} (no {_LAYOUT_FILE}; a save "
            f"that was interrupted leaves none).{hint}"
        )
    meta = json.loads(layout_file.read_text())
    if meta.get("format") != _FORMAT or meta.get("version") != _VERSION:
        raise ValueError(
            f"{layout_file} is not a version-{_VERSION} gradtx checkpoint layout: "
            f"format {meta.get('format')!r}, version {meta.get('version')!r}."
        )
    records: list[dict[str, Any]] = meta["leaves"]
    return records


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
    dtype = x.dtype if _is_jax(x) else np.asarray(x).dtype
    return ocp.RestoreArgs(restore_type=np.ndarray, dtype=dtype)


def _like(x: np.ndarray, target: Any) -> Any:
    """``x``, read as NumPy, placed as ``target`` is placed."""
    if _committed(target) or not _is_jax(target):
        return x
    return jax.device_put(x)  # uncommitted, on the default device


def restore(directory: PathLike, target: Any, *, step: int | None = None) -> Any:
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

    Args:
      directory: the directory passed to :func:`save`.
      target: the template tree.
      step: the ``step`` passed to :func:`save`, if any.

    Returns:
      The restored tree.

    Raises:
      TreeMismatchError: the checkpoint's layout differs from ``target``'s (a
        leaf path, container type, shape or dtype); the message names the first
        differing path, what the checkpoint has there and what the target
        expects.
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
    path = _step_dir(directory, step)
    saved = _read_layout(path, directory)
    problem = _first_difference(saved, _layout(target))
    if problem:
        hint = _MISMATCH_HINT.format(layout=path / _LAYOUT_FILE)
        raise TreeMismatchError(f"{problem} {hint}")
    leaves, treedef = jax.tree.flatten(target)
    if not leaves:
        return jax.tree.unflatten(treedef, [])
    restore_args = {str(i): _restore_args(x) for i, x in enumerate(leaves)}
    with ocp.PyTreeCheckpointer() as checkpointer:
        arrays = checkpointer.restore(
            path / _ARRAYS_DIR,
            args=ocp.args.PyTreeRestore(restore_args=restore_args),
        )
    restored = [_like(arrays[str(i)], x) for i, x in enumerate(leaves)]
    return jax.tree.unflatten(treedef, restored)


def latest_step(directory: PathLike) -> int | None:
    """Returns the highest ``step`` with a complete checkpoint in ``directory``.

    ``None`` when there is none (or the directory does not exist), so a
    training script can start fresh or resume with the same code.

    Example:
      >>> import tempfile
      >>> from gradtx import checkpoint
      >>> print(checkpoint.latest_step(tempfile.mkdtemp()))
      None
    """
    path = _step_dir(directory, None)
    if not path.is_dir():
        return None
    steps = [
        int(p.name)
        for p in path.iterdir()
        if p.name.isdigit() and (p / _LAYOUT_FILE).is_file()
    ]
    return max(steps, default=None)
