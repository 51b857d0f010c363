"""Types and helpers shared by the initializers (private)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeAlias

import jax
import jax.numpy as jnp

from gradtx._internal import validate

Axes: TypeAlias = int | Sequence[int]


class Initializer(Protocol):
    """What ``kernel_init=``/``bias_init=`` of Flax layers call.

    ``init(key, shape, dtype) -> jax.Array``, as ``jax.nn.initializers``: a
    PRNG key, the parameter's shape and its dtype. Every initializer in
    ``gradtx.init`` (jax's included) has this form.
    """

    def __call__(
        self, key: jax.Array, shape: Sequence[int], dtype: Any = ...
    ) -> jax.Array: ...


def as_shape(shape: Sequence[int], name: str) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints; a clear error otherwise."""
    try:
        out = tuple(int(d) for d in shape)
    except TypeError:
        raise validate.error(
            TypeError, name, f"shape must be a sequence of ints, got {shape!r}."
        ) from None
    if any(d < 0 for d in out):
        raise validate.error(
            ValueError, name, f"shape must not have negative sizes, got {out}."
        )
    return out


def compute_fans(
    shape: tuple[int, ...],
    in_axis: tuple[int, ...],
    out_axis: tuple[int, ...],
    batch_axis: tuple[int, ...],
    name: str,
) -> tuple[int, int]:
    """(fan_in, fan_out) as ``jax.nn.initializers.variance_scaling`` counts them.

    ``fan_in`` is the size of ``in_axis`` (default ``-2``) times the receptive
    field (every axis not in ``in_axis``, ``out_axis`` or ``batch_axis``);
    ``fan_out`` likewise with ``out_axis`` (default ``-1``). For Flax kernels,
    ``(in, out)`` for Dense and ``(*window, in, out)`` for Conv, this is
    PyTorch's ``(in * window, out * window)``.
    """
    ndim = len(shape)
    if ndim < 2:
        raise validate.error(
            ValueError,
            name,
            f"shape is {shape}, but {name} needs a kernel of rank >= 2 to compute "
            "fan_in and fan_out. For a bias, use torch_default_bias(fan_in), "
            "zeros, or constant(value).",
        )
    groups = {"in_axis": in_axis, "out_axis": out_axis, "batch_axis": batch_axis}
    seen: dict[int, str] = {}
    for argument, axes in groups.items():
        for a in axes:
            if not -ndim <= a < ndim:
                raise validate.error(
                    ValueError,
                    name,
                    f"{argument}={a} is out of range for a kernel of shape {shape} "
                    f"(rank {ndim}).",
                )
            if a % ndim in seen:
                raise validate.error(
                    ValueError,
                    name,
                    f"{argument}: axis {a} is in both {seen[a % ndim]} and "
                    f"{argument} (kernel shape {shape}).",
                )
            seen[a % ndim] = argument
    receptive = math.prod(d for i, d in enumerate(shape) if i not in seen)
    fan_in = math.prod(shape[a] for a in in_axis) * receptive
    fan_out = math.prod(shape[a] for a in out_axis) * receptive
    return fan_in, fan_out


def fan_axes(
    fn: str, in_axis: Axes, out_axis: Axes, batch_axis: Axes
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The three axis arguments of a fan-scaled initializer, as tuples of ints."""
    return (
        validate.axes(fn, "in_axis", in_axis),
        validate.axes(fn, "out_axis", out_axis),
        validate.axes(fn, "batch_axis", batch_axis),
    )


def fan_scaled(
    name: str,
    distribution: str,
    spread: Callable[[int, int], float],
    axes: tuple[Axes, Axes, Axes],
    default_dtype: Any,
) -> Initializer:
    """An initializer drawing N(0, spread^2) or U(-spread, spread) from the fans.

    ``axes`` are the initializer's ``(in_axis, out_axis, batch_axis)``
    arguments, checked here, when the initializer is built.
    """
    in_axis, out_axis, batch_axis = fan_axes(name, *axes)

    def init(
        key: jax.Array, shape: Sequence[int], dtype: Any = default_dtype
    ) -> jax.Array:
        dims = as_shape(shape, name)
        fan_in, fan_out = compute_fans(dims, in_axis, out_axis, batch_axis, name)
        if math.prod(dims) == 0:
            return jnp.zeros(dims, dtype)
        s = spread(fan_in, fan_out)
        if distribution == "normal":
            return jax.random.normal(key, dims, dtype) * jnp.asarray(s, dtype)
        return jax.random.uniform(key, dims, dtype, -s, s)

    return init
