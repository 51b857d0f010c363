"""The layout of a tree: per leaf its path, containers, shape and dtype.

:func:`layout` describes a tree, :func:`check_storable` refuses what orbax
cannot write before anything touches the disk, and :func:`first_difference`
names the first leaf where a checkpoint's layout and a restore target's differ.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import numpy as np

Leaf = dict[str, Any]  # {"keys": [...], "nodes": [...], "shape": [...], "dtype": str}

MISMATCH_HINT = (
    "Restore into a target built like the saved tree: the same optimizer with "
    "the same state-shaping hyperparameters (mu_dtype, masks, momentum...), "
    "initialized on params of the same shapes and dtypes, e.g. "
    "`restore(directory, (params, tx.init(params)))`. The checkpoint's layout "
    "is listed in {layout}."
)


def _containers(treedef: Any) -> list[list[str]]:
    """For each leaf, the type names of the containers from the root down."""
    data = treedef.node_data()
    if data is None:  # a leaf
        return [[]]
    # A dict subclass (inject_hyperparams' InjectedHyperparams) is a dict in
    # the record: what it adds is static, and checkpoints written when it was
    # a plain dict restore into it.
    name = "dict" if issubclass(data[0], dict) else data[0].__name__
    return [
        [name, *rest] for child in treedef.children() for rest in _containers(child)
    ]


def is_jax(x: Any) -> bool:
    return isinstance(x, jax.Array | jax.ShapeDtypeStruct)


def _shape_dtype(x: Any, path: str) -> tuple[list[int], str]:
    if is_jax(x):
        return [int(d) for d in x.shape], str(x.dtype)
    if isinstance(x, np.ndarray | np.generic | bool | int | float | complex):
        arr = np.asarray(x)
        return list(arr.shape), str(arr.dtype)
    raise TypeError(
        f"tree{path} is a {type(x).__name__}, not an array: checkpoints hold "
        "pytrees of JAX or NumPy arrays (or Python numbers). Leave other "
        "objects out of the tree and save them with your config."
    )


def path_of(leaf: Leaf) -> str:
    """``tree['params']['w']``: the leaf's path, as :func:`jax.tree_util.keystr`."""
    return "tree" + "".join(leaf["keys"])


def size(leaf: Leaf) -> int:
    return int(np.prod(leaf["shape"], dtype=np.int64))


def layout(tree: Any) -> list[Leaf]:
    """Describes ``tree``: per leaf its path keys, containers, shape and dtype."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
    records = []
    for (path, x), nodes in zip(leaves, _containers(treedef), strict=True):
        keys = [jax.tree_util.keystr((k,)) for k in path]
        shape, dtype = _shape_dtype(x, "".join(keys))
        records.append({"keys": keys, "nodes": nodes, "shape": shape, "dtype": dtype})
    return records


@functools.cache
def _storable(dtype: np.dtype[Any]) -> bool:
    """Whether orbax can write ``dtype``: a number type tensorstore knows."""
    import tensorstore  # orbax's storage layer

    if dtype.kind not in "biufcV":  # V: bfloat16, float8... (ml_dtypes)
        return False
    try:
        tensorstore.dtype(dtype.name)
    except (ValueError, TypeError):
        return False
    return True


_WIDER = (  # name prefix -> a dtype orbax writes that holds every value exactly
    ("uint", "uint8"),
    ("int", "int8"),
    ("float", "float32"),
    ("bcomplex", "complex64"),
    ("complex", "complex64"),
)


def _wider(dtype: np.dtype[Any]) -> str:
    """A dtype that holds every value of ``dtype`` exactly, for the hint."""
    for prefix, wide in _WIDER:
        if dtype.name.startswith(prefix):
            return wide if np.dtype(wide).itemsize >= dtype.itemsize else ""
    return ""


def check_storable(tree: Any, leaves: list[Leaf]) -> None:
    """Raises if a leaf of ``tree`` cannot be saved, before anything is written.

    Raises:
      TypeError: a leaf's dtype is not one orbax can write.
      ValueError: a leaf is a deleted JAX array (donated to a jitted function).
    """
    for x, leaf in zip(jax.tree.leaves(tree), leaves, strict=True):
        if isinstance(x, jax.Array) and x.is_deleted():
            raise ValueError(
                f"{path_of(leaf)} is a deleted array: it was donated to a jitted "
                "function (donate_argnums) or deleted. Save the tree the step "
                "returned, not the one passed in."
            )
        dtype = np.dtype(leaf["dtype"])
        if not _storable(dtype):
            wider = _wider(dtype)
            fix = (
                f"cast it to {wider}, which holds its values exactly, and cast "
                "it back after restore"
                if wider
                else "leave it out of the tree and save it another way"
            )
            raise TypeError(
                f"{path_of(leaf)} has dtype {dtype.name}, which orbax "
                f"(tensorstore) cannot write: {fix}."
            )


def spec(leaf: Leaf) -> str:
    """``float32[3,2]``, as :func:`gradtx.errors.spec` prints it."""
    return f"{leaf['dtype']}[{','.join(str(d) for d in leaf['shape'])}]"


def first_difference(saved: list[Leaf], target: list[Leaf]) -> str:
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
        return (
            f"{path_of(t)}: the checkpoint has {spec(s)}, the target expects {spec(t)}."
        )
    return ""


def _where(leaf: Leaf | None) -> str:
    """What the other tree has at the same leaf position."""
    if leaf is None:
        return " (it has fewer leaves)"
    return f" (its leaf in that place is {path_of(leaf)})"


def _extra(leaf: Leaf, target: Leaf | None) -> str:
    return (
        f"{path_of(leaf)}: the checkpoint has {spec(leaf)} here, the target has "
        f"no leaf at this path{_where(target)}."
    )


def _missing(leaf: Leaf, saved: Leaf | None) -> str:
    return (
        f"{path_of(leaf)}: the checkpoint has no leaf at this path{_where(saved)}, "
        f"the target expects {spec(leaf)}."
    )
