"""Small numerical helpers shared by the transformations (private)."""

from __future__ import annotations

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


def compute_dtype(dtype: Any) -> Any:
    """The dtype to do element-wise optimizer math in: at least float32.

    float16/bfloat16 leaves are computed in float32 and the results cast back,
    so an ``eps`` of 1e-8 does not round to 0 (and 0/0 to NaN) in float16.
    """
    return jnp.promote_types(dtype, jnp.float32)


def up(x: jax.Array) -> jax.Array:
    """``x`` cast to :func:`compute_dtype` of its dtype (a no-op for float32)."""
    return x.astype(compute_dtype(jnp.result_type(x)))
