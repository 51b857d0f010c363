"""Gated linear units from Shazeer 2020: SwiGLU and GEGLU.

Both split their input in two halves along ``axis``, the same convention as
``jax.nn.glu``: the *first* half :math:`a` is gated by the *second* half
:math:`b`, :math:`\\mathrm{glu}(x) = a \\odot \\sigma(b)`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from gradtx._internal import validate
from gradtx.activations._functions import _float_array

__all__ = ["geglu", "swiglu"]


def _check_even(fn: str, x: ArrayLike, axis: int) -> None:
    """Raises ValueError unless ``x``'s size along ``axis`` is even."""
    shape = np.shape(x)
    if not -len(shape) <= axis < len(shape):
        raise validate.error(
            ValueError,
            fn,
            f"axis={axis} is out of range: {fn} splits x along axis {axis}, but x "
            f"has shape {shape} ({len(shape)} axes).",
        )
    size = shape[axis]
    if size % 2:
        raise validate.error(
            ValueError,
            fn,
            f"x must split into two halves along axis {axis}, whose size {size} "
            f"is odd (x has shape {shape}); give that axis an even size, e.g. a "
            "projection to 2 * hidden features.",
        )


def swiglu(x: ArrayLike, axis: int = -1) -> jax.Array:
    r"""SwiGLU (Shazeer 2020): the first half of ``x`` gated by SiLU of the second.

    .. math:: \mathrm{swiglu}(x) = a \odot \mathrm{silu}(b)
        = a \odot b \, \sigma(b), \qquad x = [a; b] \text{ along } \texttt{axis}

    The split is the one of ``jax.nn.glu`` (first half gated by the second);
    ``swiglu`` is ``glu`` with :math:`\sigma(b)` replaced by
    :math:`\mathrm{silu}(b)`. The paper's feed-forward layer

    .. math:: \mathrm{FFN}_\mathrm{SwiGLU}(x) =
        (\mathrm{Swish}_1(x W) \otimes x V) \, W_2

    is ``swiglu(x @ jnp.concatenate([V, W], axis=-1)) @ W2``: the value
    projection :math:`V` fills the first half, the gate projection :math:`W`
    the second.

    Args:
      x: the input; its size along ``axis`` must be even.
      axis: the axis to split.

    Returns:
      An array of ``x``'s dtype whose ``axis`` is half as long.

    Raises:
      ValueError: the size of ``axis`` is odd, or ``axis`` is out of range.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.activations import swiglu
      >>> swiglu(jnp.array([[2.0, 3.0, 0.0, 1.0]]))  # [2, 3] * silu([0, 1])
      Array([[0.       , 2.1931758]], dtype=float32)

    References:
      Shazeer, *GLU Variants Improve Transformer*, 2020,
      https://arxiv.org/abs/2002.05202
    """
    _check_even("swiglu", x, axis)
    return _swiglu(x, axis)


@functools.partial(jax.jit, static_argnames="axis")
def _swiglu(x: ArrayLike, axis: int) -> jax.Array:
    a, b = jnp.split(_float_array(x), 2, axis=axis)
    return a * jax.nn.silu(b)


def geglu(x: ArrayLike, axis: int = -1, *, approximate: bool = True) -> jax.Array:
    r"""GEGLU (Shazeer 2020): the first half of ``x`` gated by GELU of the second.

    .. math:: \mathrm{geglu}(x) = a \odot \mathrm{gelu}(b), \qquad
        x = [a; b] \text{ along } \texttt{axis}

    The split is the one of ``jax.nn.glu`` (first half gated by the second).
    The paper's feed-forward layer
    :math:`\mathrm{FFN}_\mathrm{GEGLU}(x) = (\mathrm{GELU}(x W) \otimes x V) W_2`
    is ``geglu(x @ jnp.concatenate([V, W], axis=-1)) @ W2``. ``approximate``
    is passed to ``jax.nn.gelu`` and has its default (the tanh
    approximation, as in T5); ``approximate=False`` gives the exact erf form,
    PyTorch's default.

    Args:
      x: the input; its size along ``axis`` must be even.
      axis: the axis to split.
      approximate: use the tanh approximation of GELU.

    Returns:
      An array of ``x``'s dtype whose ``axis`` is half as long.

    Raises:
      ValueError: the size of ``axis`` is odd, or ``axis`` is out of range.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.activations import geglu
      >>> geglu(jnp.array([2.0, 3.0, 0.0, 1.0]), approximate=False)
      Array([0.      , 2.524034], dtype=float32)

    References:
      Shazeer, *GLU Variants Improve Transformer*, 2020,
      https://arxiv.org/abs/2002.05202
    """
    _check_even("geglu", x, axis)
    return _geglu(x, axis, approximate)


@functools.partial(jax.jit, static_argnames=("axis", "approximate"))
def _geglu(x: ArrayLike, axis: int, approximate: bool) -> jax.Array:
    a, b = jnp.split(_float_array(x), 2, axis=axis)
    return a * jax.nn.gelu(b, approximate=approximate)
