"""Small numerical helpers shared by the packages (private)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

COUNT_DTYPE = jnp.int32
_COUNT_MAX = int(jnp.iinfo(COUNT_DTYPE).max)


def zero_count() -> jax.Array:
    """A fresh step counter: an int32 zero (int32 also under ``jax_enable_x64``)."""
    return jnp.zeros([], COUNT_DTYPE)


def safe_increment(count: jax.Array) -> jax.Array:
    """``count + 1``, saturating at the int32 maximum instead of wrapping."""
    return jnp.where(count < _COUNT_MAX, count + 1, _COUNT_MAX).astype(COUNT_DTYPE)


def abs_sq(x: jax.Array) -> jax.Array:
    """``|x|^2`` in ``x``'s real dtype (``x * x`` for real ``x``)."""
    if jnp.iscomplexobj(x):
        return jnp.real(x) ** 2 + jnp.imag(x) ** 2
    return x * x


def real_dtype(dtype: Any) -> Any:
    """The real dtype of a complex dtype; other dtypes unchanged."""
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        return jnp.finfo(dtype).dtype
    return dtype


def zeros_like(tree: Any, dtype: Any = None, *, real: bool = False) -> Any:
    """Zeros shaped like each leaf, in ``dtype`` or the leaf's (real) dtype."""
    return full_like(tree, 0, dtype, real=real)


def full_like(tree: Any, value: Any, dtype: Any = None, *, real: bool = False) -> Any:
    """``value`` shaped like each leaf, in ``dtype`` or the leaf's (real) dtype."""

    def leaf(x: Any) -> jax.Array:
        d = dtype if dtype is not None else jnp.result_type(x)
        if real:
            d = real_dtype(d)
        if isinstance(x, jax.Array):  # keeps a concrete leaf's sharding / device
            return jax.lax.full_like(x, value, d)
        return jnp.full(jnp.shape(x), value, d)

    return jax.tree.map(leaf, tree)


def bias_correction(decay: Any, count: jax.Array) -> jax.Array:
    """``1 - decay**count``, computed once per step in the default float dtype.

    Computing the power in low precision (bfloat16) would round it to 1 and the
    correction to 0, so it is done in float32 (float64 under
    ``jax_enable_x64``) and cast where it is used.
    """
    dtype = jnp.result_type(float)
    return 1 - jnp.asarray(decay).astype(dtype) ** count.astype(dtype)


def nesterov_bias_correction(
    decay: Any, count: jax.Array, nesterov: bool
) -> jax.Array | None:
    """With Nesterov momentum, the next step's ``1 - decay**(count + 1)``
    (the look-ahead moment is corrected as the next step's); else None."""
    if not nesterov:
        return None
    return bias_correction(decay, safe_increment(count))


def compute_dtype(dtype: Any) -> Any:
    """The dtype to do element-wise optimizer math in: at least float32.

    float16/bfloat16 leaves are computed in float32 and the results cast back,
    so an ``eps`` of 1e-8 does not round to 0 (and 0/0 to NaN) in float16.
    """
    return jnp.promote_types(dtype, jnp.float32)


def up(x: jax.Array) -> jax.Array:
    """``x`` cast to :func:`compute_dtype` of its dtype (a no-op for float32)."""
    return x.astype(compute_dtype(jnp.result_type(x)))


def leafwise(
    fn: Callable[..., Any], *trees: Any, scalars: tuple[Any, ...] = (), outputs: int = 0
) -> Any:
    """``fn(*leaves, *scalars)`` for each leaf position of ``trees``.

    Returns one tree like ``trees[0]``, or, with ``outputs=k``, a tuple of ``k``
    trees from an ``fn`` that returns a ``k``-tuple. The trees must have the
    structure of ``trees[0]`` (checked by the caller).

    Under ``jax.jit``, ``fn`` runs as a nested ``jax.jit``: leaves of the same
    shape and dtype then share one trace and one lowering, which makes trace +
    lower of a step over thousands of leaves several times faster. XLA inlines
    the calls, so the compiled program is the same. ``fn`` must take every
    traced value it needs as an argument (``scalars``), not from a closure;
    Python numbers in ``scalars`` stay constants.
    Eagerly, ``fn`` is called directly: a nested jit would compile on every
    call.
    """
    leaves, treedef = jax.tree.flatten(trees[0])
    rest = [treedef.flatten_up_to(t) for t in trees[1:]]  # type: ignore[attr-defined]
    columns = [leaves, *rest]
    if any(isinstance(x, jax.core.Tracer) for x in leaves):
        # Arrays are the nested jit's arguments; Python numbers and None stay
        # constants of the trace, exactly as in the eager path.
        dynamic = [s for s in scalars if isinstance(s, jax.Array)]

        def with_scalars(*args: Any) -> Any:
            given = iter(args[len(columns) :])
            full = [next(given) if isinstance(s, jax.Array) else s for s in scalars]
            return fn(*args[: len(columns)], *full)

        with_scalars.__name__ = with_scalars.__qualname__ = fn.__name__  # jaxpr names
        f = jax.jit(with_scalars)
        results = [f(*xs, *dynamic) for xs in zip(*columns, strict=True)]
    else:
        results = [fn(*xs, *scalars) for xs in zip(*columns, strict=True)]
    if not outputs:
        return jax.tree.unflatten(treedef, results)
    if not results:
        return tuple(jax.tree.unflatten(treedef, []) for _ in range(outputs))
    return tuple(
        jax.tree.unflatten(treedef, list(c)) for c in zip(*results, strict=True)
    )


# Leaves up to this many elements are concatenated (per dtype) and reduced in
# one kernel; larger ones are reduced one by one, with no copy.
_PACK_MAX_SIZE = 4096


def reduce_leaves(
    leaves: list[jax.Array],
    leaf_fn: Callable[[jax.Array], jax.Array],
    combine: Callable[[jax.Array], jax.Array],
) -> jax.Array:
    """``combine(stack([leaf_fn(x) for x in leaves]))``, laid out to compile fast.

    ``leaf_fn`` must reduce an array to a scalar such that reducing a
    concatenation equals combining the parts (a sum, a max, an all). The
    layout keeps XLA's compile time close to linear in the number of leaves:

    - small leaves are concatenated per dtype and reduced in one kernel: one
      kernel instead of one per leaf, at the cost of copying them (a few KiB
      each);
    - the partial results are stacked behind an optimization barrier. Combined
      as scalars, XLA fuses them into one kernel whose fusion check rescans it
      for each reduction: quadratic compile time (XLA's
      ``CpuInstructionFusion::ShouldFuse``).
    """
    small: dict[Any, list[jax.Array]] = {}
    parts: list[jax.Array] = []
    for x in leaves:
        if x.size <= _PACK_MAX_SIZE:
            small.setdefault(jnp.result_type(x), []).append(jnp.ravel(x))
        else:
            parts.append(leaf_fn(x))
    for group in small.values():
        parts.append(leaf_fn(group[0] if len(group) == 1 else jnp.concatenate(group)))
    if len(parts) == 1:
        return parts[0]
    return combine(jax.lax.optimization_barrier(jnp.stack(parts)))
