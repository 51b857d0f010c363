"""``flatten``: run a transformation on small leaves packed into one vector."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate
from gradtx.core import (
    GradientTransformation,
    Params,
    Updates,
    as_transformation,
    with_extra_args_support,
)

__all__ = ["FlatState", "Flattened", "flatten"]

DEFAULT_MAX_LEAF_SIZE = 1 << 14


class Flattened(NamedTuple):
    """What the inner transformation of :func:`flatten` sees.

    ``packed`` holds one vector per dtype, the small leaves of that dtype
    raveled and concatenated in tree order; ``leaves`` holds the large leaves
    as they are, in tree order.
    """

    packed: tuple[jax.Array, ...]
    leaves: tuple[jax.Array, ...]


class FlatState(NamedTuple):
    """State of :func:`flatten`."""

    inner_state: Any  # the inner transformation's state, over a Flattened tree


class _Layout(NamedTuple):
    """Where each leaf goes: static, from the shapes and dtypes alone."""

    treedef: Any
    # Per leaf: (group index, offset, size, shape) if packed, else (-1, index
    # into Flattened.leaves, size, shape).
    slots: tuple[tuple[int, int, int, tuple[int, ...]], ...]
    dtypes: tuple[Any, ...]  # the dtype of each packed group


def _layout(tree: Any, max_leaf_size: int | None) -> _Layout:
    leaves, treedef = jax.tree.flatten(tree)
    dtypes: list[Any] = []
    sizes: list[int] = []
    slots = []
    n_large = 0
    for x in leaves:
        shape, dtype = tuple(np.shape(x)), jnp.result_type(x)
        size = int(np.prod(shape, dtype=np.int64))
        if max_leaf_size is not None and size > max_leaf_size:
            slots.append((-1, n_large, size, shape))
            n_large += 1
            continue
        if dtype not in dtypes:
            dtypes.append(dtype)
            sizes.append(0)
        group = dtypes.index(dtype)
        slots.append((group, sizes[group], size, shape))
        sizes[group] += size
    return _Layout(treedef, tuple(slots), tuple(dtypes))


def _pack(tree: Any, layout: _Layout) -> Flattened:
    leaves = layout.treedef.flatten_up_to(tree)
    groups: list[list[jax.Array]] = [[] for _ in layout.dtypes]
    large = []
    for x, (group, _, _, _) in zip(leaves, layout.slots, strict=True):
        if group < 0:
            large.append(jnp.asarray(x))
        else:
            groups[group].append(jnp.ravel(jnp.asarray(x)))
    packed = tuple(g[0] if len(g) == 1 else jnp.concatenate(g) for g in groups)
    return Flattened(packed=packed, leaves=tuple(large))


def _unpack(flat: Flattened, layout: _Layout) -> Any:
    out = []
    for group, start, size, shape in layout.slots:
        if group < 0:
            out.append(flat.leaves[start])
        else:
            vec = flat.packed[group]
            out.append(jax.lax.slice(vec, (start,), (start + size,)).reshape(shape))
    return jax.tree.unflatten(layout.treedef, out)


def _check_dtypes(fn: str, updates: Updates, layout: _Layout) -> None:
    """Packed updates must have their params' dtypes: one vector per dtype."""
    with_path = jax.tree_util.tree_flatten_with_path(updates)[0]
    for (path, u), (group, *_) in zip(with_path, layout.slots, strict=True):
        if group >= 0 and jnp.result_type(u) != layout.dtypes[group]:
            raise validate.error(
                ValueError,
                fn,
                f"updates{jax.tree_util.keystr(path)} is {jnp.result_type(u)} but "
                f"its param is {layout.dtypes[group]}; flatten packs leaves into "
                "one vector per dtype, so updates need their params' dtypes. Cast "
                "the updates first.",
            )


def flatten(
    inner: GradientTransformation, *, max_leaf_size: int | None = DEFAULT_MAX_LEAF_SIZE
) -> GradientTransformation:
    r"""Runs ``inner`` with the small leaves packed into one vector per dtype.

    XLA runs one kernel per array and per operation, and on a CPU each costs
    microseconds however small the array: on a model with thousands of tiny
    leaves (biases, norm scales, embeddings of a few rows) the step time is
    that overhead, not the arithmetic. ``flatten`` concatenates every leaf of
    at most ``max_leaf_size`` elements into one vector per dtype, runs
    ``inner`` on those vectors (and its state lives on them), and slices the
    updates back into the tree. Leaves larger than ``max_leaf_size`` are passed
    to ``inner`` unchanged: copying them would cost more memory traffic than
    the per-array overhead it saves.

    For element-wise transformations (every optimizer in gradtx) and for the
    global norm, the result is the same as without ``flatten``, up to the
    order of floating-point sums. A transformation that looks at leaf shapes
    or paths (a mask, a per-leaf norm) sees vectors instead: apply
    :func:`~gradtx.masked` outside ``flatten``, not inside.

    The trade-off: the step runs faster, but its compile takes longer (each
    leaf's slice of the packed update is a distinct kernel to XLA, where
    same-shaped leaves share one otherwise). Use it when the step runs many
    times on a tree of many small leaves; measure with
    ``benchmarks/optimizers.py``.

    Compared with ``optax.flatten`` (which packs every leaf), the default
    threshold keeps large leaves out of the copy. ``max_leaf_size=None``
    packs every leaf, as optax does.

    Args:
      inner: the transformation to run on the packed tree.
      max_leaf_size: leaves with more elements than this are not packed;
        ``None`` packs every leaf.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state :class:`FlatState`,
      whose ``inner_state`` is ``inner``'s state over a :class:`Flattened`.

    Raises:
      TypeError: ``inner`` is not a transformation.
      ValueError: ``max_leaf_size`` is not an int >= 0 or None; or, at update
        time, an update whose dtype differs from its param's (the message names
        its path).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> params = {"b1": jnp.zeros(2), "b2": jnp.zeros(3)}
      >>> tx = gradtx.flatten(gradtx.sgd(0.5, momentum=0.9))
      >>> state = tx.init(params)
      >>> gradtx.tree_get(state, "trace")  # one momentum vector for both leaves
      Flattened(packed=(Array([0., 0., 0., 0., 0.], dtype=float32),), leaves=())
      >>> updates, _ = tx.update({"b1": jnp.ones(2), "b2": -jnp.ones(3)}, state)
      >>> updates["b2"]
      Array([0.5, 0.5, 0.5], dtype=float32)
    """
    fn = validate.who("flatten")
    inner = with_extra_args_support(as_transformation(inner, "flatten's inner"))
    if max_leaf_size is not None:
        validate.integer(
            fn,
            "max_leaf_size",
            max_leaf_size,
            low=0,
            meaning="larger leaves are not packed; None packs every leaf",
        )

    def init(params: Params) -> FlatState:
        validate.params(fn, params)
        return FlatState(inner.init(_pack(params, _layout(params, max_leaf_size))))

    def update(
        updates: Updates,
        state: FlatState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, FlatState]:
        validate.updates(fn, updates, params)
        layout = _layout(updates if params is None else params, max_leaf_size)
        _check_dtypes(fn, updates, layout)
        flat_params = None if params is None else _pack(params, layout)
        flat, inner_state = inner.update(
            _pack(updates, layout), state.inner_state, flat_params, **extra_args
        )
        return _unpack(flat, layout), FlatState(inner_state)

    return GradientTransformation(init, update)
