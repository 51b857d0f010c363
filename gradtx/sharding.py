"""Optimizer state on many devices: its shardings, and ZeRO-1 state sharding.

gradtx runs unchanged under JAX's SPMD machinery (``Mesh``,
``NamedSharding``, ``jit`` with shardings, ``shard_map``). ``tx.init`` called
on sharded params (outside ``jit``) gives state sharded like them; a jitted
``update`` keeps the shardings of its inputs. Two helpers cover the rest:

* :func:`state_shardings` gives the sharding pytree of ``tx.init(params)``
  without running it, for ``jax.jit(tx.init, out_shardings=...)`` (inside
  ``jit``, XLA alone would place freshly created zeros on one device) and for
  restoring a checkpoint onto devices.
* :func:`shard_state` shards the optimizer state along a data-parallel mesh
  axis while the params stay replicated (ZeRO stage 1, Rajbhandari et al.
  2020): each device keeps 1/N of Adam's moments, and XLA gathers the
  updates.
"""

from __future__ import annotations

from typing import Any

import jax
from jax.sharding import AxisType, NamedSharding, PartitionSpec, Sharding

from gradtx._internal import validate
from gradtx.core import GradientTransformation

__all__ = ["shard_state", "state_shardings"]

Path = tuple[Any, ...]


def _replicated(like: Sharding) -> Sharding:
    """A fully replicated sharding on the devices of ``like``."""
    if isinstance(like, NamedSharding):
        return NamedSharding(like.mesh, PartitionSpec())
    return like  # a single-device sharding is already "replicated"


def _param_table(params: Any) -> list[tuple[Path, tuple[int, ...], Sharding]]:
    table = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        sharding = getattr(leaf, "sharding", None)
        if not isinstance(sharding, Sharding):
            raise validate.error(
                TypeError,
                "state_shardings",
                f"params{jax.tree_util.keystr(path)} has no sharding; pass arrays "
                "(jax.device_put(x, sharding)) or jax.ShapeDtypeStruct(shape, "
                "dtype, sharding=...).",
            )
        table.append((tuple(path), tuple(leaf.shape), sharding))
    return table


def _match(
    path: Path,
    shape: tuple[int, ...],
    table: list[tuple[Path, tuple[int, ...], Sharding]],
) -> Sharding | None:
    """The sharding of the param whose path ends the state leaf's path (the
    longest such match) and whose shape is the leaf's."""
    best: tuple[int, Sharding] | None = None
    for p_path, p_shape, sharding in table:
        n = len(p_path)
        suffix = n == 0 or path[-n:] == p_path
        if p_shape == shape and suffix and (best is None or n > best[0]):
            best = (n, sharding)
    return None if best is None else best[1]


def state_shardings(tx: GradientTransformation, params: Any) -> Any:
    """The sharding of each leaf of ``tx.init(params)``, without running it.

    A state leaf that mirrors a param (same shape, and a path that ends with
    the param's path, as ``mu['dense']['kernel']`` mirrors
    ``['dense']['kernel']``) gets that param's sharding; everything else
    (counters, hyperparameters, :func:`gradtx.flatten`'s packed vectors) is
    replicated on the params' devices. Works for any transformation whose
    state nests per-param trees, optax's included.

    Args:
      tx: the transformation.
      params: arrays, or ``jax.ShapeDtypeStruct`` with a ``sharding``.

    Returns:
      A pytree of shardings with the structure of the state.

    Raises:
      TypeError: a params leaf without a sharding.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import gradtx
      >>> params = {"w": jnp.ones((4, 2))}
      >>> tx = gradtx.adam(1e-3)
      >>> shardings = gradtx.state_shardings(tx, params)
      >>> state = jax.jit(tx.init, out_shardings=shardings)(params)
      >>> state[0].mu["w"].sharding == params["w"].sharding
      True
    """
    table = _param_table(params)
    if not table:
        return jax.tree.map(lambda _: None, jax.eval_shape(tx.init, params))
    fallback = _replicated(table[0][2])
    abstract = jax.eval_shape(tx.init, params)

    def leaf(path: Path, x: jax.ShapeDtypeStruct) -> Sharding:
        return _match(tuple(path), tuple(x.shape), table) or fallback

    return jax.tree_util.tree_map_with_path(leaf, abstract)


def _zero_spec(shape: tuple[int, ...], mesh: Any, axis: str) -> PartitionSpec:
    """Shard the first dimension divisible by the axis size; else replicate."""
    size = mesh.shape[axis]
    for i, d in enumerate(shape):
        if d % size == 0 and d >= size:
            return PartitionSpec(*([None] * i), axis)
    return PartitionSpec()


def shard_state(
    inner: GradientTransformation, mesh: Any, axis: str
) -> GradientTransformation:
    """ZeRO-1: ``inner``'s state sharded along a data-parallel mesh axis.

    With data parallelism every device holds the params and computes the
    same update; keeping the whole optimizer state on each is redundant.
    This wrapper constrains every state leaf of ``inner`` with at least one
    dimension divisible by the size of ``axis`` to be split along the first
    such dimension (scalars and indivisible leaves stay replicated), and the
    updates to be replicated like the params. Inside ``jit`` XLA then keeps
    1/N of the state per device, computes each slice of the update where its
    state lives, and all-gathers the updates (Rajbhandari et al. 2020, stage
    1). The math is ``inner``'s, unchanged. With a mesh of ``Explicit`` axes
    (``jax.make_mesh``'s default) run the step under ``jax.set_mesh(mesh)``;
    with ``Auto`` axes no context is needed.

    Args:
      inner: the transformation whose state to shard.
      mesh: a ``jax.sharding.Mesh``.
      axis: the name of the data-parallel axis of ``mesh``.

    Returns:
      A transformation with ``inner``'s state (same structure).

    Raises:
      ValueError: ``axis`` is not an axis of ``mesh``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import gradtx
      >>> mesh = jax.make_mesh((1,), ("data",))
      >>> tx = gradtx.shard_state(gradtx.adam(1e-3), mesh, "data")
      >>> state = jax.jit(tx.init)({"w": jnp.ones((8, 2))})
      >>> state[0].mu["w"].sharding.spec
      P('data', None)

    References:
      Rajbhandari et al., *ZeRO: Memory Optimizations Toward Training Trillion
      Parameter Models*, SC 2020.
    """
    if axis not in mesh.shape:
        raise validate.error(
            ValueError,
            "shard_state",
            f"axis={axis!r} is not an axis of the mesh (its axes: {list(mesh.shape)}).",
        )

    explicit = any(t == AxisType.Explicit for t in getattr(mesh, "axis_types", ()))

    def place(x: Any, spec: PartitionSpec) -> Any:
        # Explicit-axis meshes (jax.make_mesh's default) move data with
        # reshard; Auto ones take a constraint that XLA's partitioner honours.
        sharding = NamedSharding(mesh, spec)
        if explicit:
            return jax.sharding.reshard(x, sharding)
        return jax.lax.with_sharding_constraint(x, sharding)

    def constrain_state(state: Any) -> Any:
        def leaf(x: Any) -> Any:
            if not hasattr(x, "shape"):
                return x
            return place(x, _zero_spec(tuple(x.shape), mesh, axis))

        return jax.tree.map(leaf, state)

    def replicate(tree: Any) -> Any:
        return jax.tree.map(lambda x: place(x, PartitionSpec()), tree)

    def init_fn(params: Any) -> Any:
        return constrain_state(inner.init(params))

    def update_fn(updates: Any, state: Any, params: Any = None, **extra: Any) -> Any:
        updates, state = inner.update(updates, state, params, **extra)
        return replicate(updates), constrain_state(state)

    return GradientTransformation(init_fn, update_fn)
