"""Uniform initializers: jax's ``uniform`` (plus bounds) and PyTorch's defaults."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.init._common import Axes, Initializer, as_shape, fan_scaled

__all__ = ["torch_default_bias", "torch_default_kernel", "uniform"]


def uniform(
    scale: float | None = None,
    dtype: Any = jnp.float32,
    *,
    low: float | None = None,
    high: float | None = None,
) -> Initializer:
    r"""Uniform initializer: jax's [0, scale), or [low, high) given both bounds.

    .. math:: W_{ij} \sim \mathcal{U}[0, \text{scale}) \quad\text{or}\quad
              W_{ij} \sim \mathcal{U}[\text{low}, \text{high})

    ``uniform()`` and ``uniform(scale)`` are ``jax.nn.initializers.uniform``
    (the same numbers for the same key), so code switching from jax keeps its
    meaning. Note that this range is *not* symmetric: jax's ``uniform(0.1)``
    draws from [0, 0.1), PyTorch's ``uniform_(a, b)`` from [a, b). For a
    symmetric range, or PyTorch's, pass ``low`` and ``high``:
    ``uniform(low=-0.1, high=0.1)``.

    Args:
      scale: the upper end of [0, scale); 1e-2 when neither it nor
        ``low``/``high`` is given (jax's default).
      dtype: the default dtype of the weights.
      low: the lower end of [low, high); needs ``high``.
      high: the upper end of [low, high); needs ``low``.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array``.

    Raises:
      ValueError: ``scale`` not positive and finite; only one of
        ``low``/``high``; ``low >= high``; ``scale`` given with ``low``/``high``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import init
      >>> key = jax.random.key(0)
      >>> w = init.uniform(0.5)(key, (1000,), jnp.float32)  # as jax: [0, 0.5)
      >>> bool(w.min() >= 0) and bool(w.max() < 0.5)
      True
      >>> w = init.uniform(low=-0.5, high=0.5)(key, (1000,), jnp.float32)
      >>> bool(w.min() >= -0.5) and bool(w.max() < 0.5) and bool(w.min() < 0)
      True

    References:
      PyTorch, ``torch.nn.init.uniform_``,
      https://pytorch.org/docs/stable/nn.init.html; JAX,
      ``jax.nn.initializers.uniform``.
    """
    fn = "uniform"
    if low is None and high is None:
        s = 1e-2 if scale is None else scale
        validate.number(fn, "scale", s, low=0.0, low_open=True, high_open=True)
        return _from_unit(fn, lambda u, d: u * jnp.asarray(s, d), dtype)
    if scale is not None:
        raise validate.error(
            ValueError,
            fn,
            f"scale={scale!r} and low={low!r}, high={high!r} are both given; give "
            "either scale (jax's U[0, scale)) or low and high (U[low, high)), "
            "not both.",
        )
    if low is None or high is None:
        raise validate.error(
            ValueError,
            fn,
            f"low and high must both be given (U[low, high) needs both low and "
            f"high), got low={low!r}, high={high!r}. For jax's U[0, scale), pass "
            "scale alone.",
        )
    validate.number(fn, "low", low)
    validate.number(fn, "high", high)
    lo, hi = float(low), float(high)
    if not lo < hi:
        raise validate.error(
            ValueError,
            fn,
            f"low must be < high (uniform needs low < high), got low={low!r}, "
            f"high={high!r}.",
        )
    return _from_unit(fn, lambda u, d: u * (hi - lo) + lo, dtype, lo, hi)


def _from_unit(
    name: str,
    transform: Any,
    default_dtype: Any,
    lo: float | None = None,
    hi: float | None = None,
) -> Initializer:
    """``transform(U[0, 1))``, or ``U[lo, hi)`` drawn directly when given."""

    def init(
        key: jax.Array, shape: Sequence[int], dtype: Any = default_dtype
    ) -> jax.Array:
        dims = as_shape(shape, name)
        if lo is not None and hi is not None:
            return jax.random.uniform(key, dims, dtype, lo, hi)
        return transform(jax.random.uniform(key, dims, dtype), dtype)

    return init


def torch_default_kernel(
    *,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: Any = jnp.float32,
) -> Initializer:
    r"""PyTorch's default weight init of ``nn.Linear`` and ``nn.ConvNd``.

    .. math:: W_{ij} \sim \mathcal{U}\left(-\frac{1}{\sqrt{\text{fan\_in}}},
              \frac{1}{\sqrt{\text{fan\_in}}}\right)

    PyTorch's ``reset_parameters`` calls ``kaiming_uniform_(w, a=sqrt(5))``:
    the gain :math:`\sqrt{2 / (1 + 5)}` times :math:`\sqrt{3 / \text{fan\_in}}`
    is :math:`1 / \sqrt{\text{fan\_in}}`. So this is
    ``kaiming_uniform(negative_slope=math.sqrt(5))``. Use it (with
    :func:`torch_default_bias`) to reproduce a PyTorch model's initial
    statistics in Flax. Flax's own default, ``lecun_normal``, has three times
    its variance: :math:`1 / \text{fan\_in}` against
    :math:`1 / (3\,\text{fan\_in})`.

    Args:
      in_axis: the kernel's input axis or axes (Flax: ``-2``).
      out_axis: the kernel's output axis or axes (Flax: ``-1``).
      batch_axis: axes ignored in the fans.
      dtype: the default dtype of the weights.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from flax import nnx
      >>> from gradtx import init
      >>> layer = nnx.Linear(64, 10, kernel_init=init.torch_default_kernel(),
      ...                    bias_init=init.torch_default_bias(64),
      ...                    rngs=nnx.Rngs(0))
      >>> bool(jnp.abs(layer.kernel[...]).max() <= 1 / 64 ** 0.5)
      True

    References:
      PyTorch, ``torch.nn.Linear.reset_parameters``,
      https://github.com/pytorch/pytorch/blob/main/torch/nn/modules/linear.py
    """
    return fan_scaled(
        "torch_default_kernel",
        "uniform",
        lambda fan_in, fan_out: 1.0 / math.sqrt(fan_in),
        (in_axis, out_axis, batch_axis),
        dtype,
    )


def torch_default_bias(fan_in: int, *, dtype: Any = jnp.float32) -> Initializer:
    r"""PyTorch's default bias init of ``nn.Linear`` and ``nn.ConvNd``.

    .. math:: b_j \sim \mathcal{U}\left(-\frac{1}{\sqrt{\text{fan\_in}}},
              \frac{1}{\sqrt{\text{fan\_in}}}\right)

    ``fan_in`` must be given: a bias initializer is called with the bias's
    shape ``(out,)`` only, which says nothing about the inputs. It is the
    layer's ``fan_in`` as :func:`torch_default_kernel` counts it: ``in_features``
    for ``nnx.Linear``; ``in_features // feature_group_count * prod(kernel_size)``
    for ``nnx.Conv``.

    Args:
      fan_in: the layer's number of inputs per output unit (an int >= 1).
      dtype: the default dtype of the bias.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array`` for any shape.

    Raises:
      ValueError: ``fan_in`` not an int >= 1.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from flax import nnx
      >>> from gradtx import init
      >>> conv = nnx.Conv(3, 8, (3, 3), kernel_init=init.torch_default_kernel(),
      ...                 bias_init=init.torch_default_bias(3 * 3 * 3),
      ...                 rngs=nnx.Rngs(0))
      >>> bool(jnp.abs(conv.bias[...]).max() <= 1 / 27 ** 0.5)
      True

    References:
      PyTorch, ``torch.nn.Linear.reset_parameters``,
      https://github.com/pytorch/pytorch/blob/main/torch/nn/modules/linear.py
    """
    validate.integer(
        "torch_default_bias",
        "fan_in",
        fan_in,
        low=1,
        meaning="the layer's inputs per output unit",
    )
    bound = 1.0 / math.sqrt(int(fan_in))
    return _from_unit("torch_default_bias", None, dtype, -bound, bound)
