"""Shrinkage activations: hardshrink, softshrink and tanhshrink (as in PyTorch).

They zero (or shrink towards zero) the inputs near 0; soft shrinkage is the
proximal operator of :math:`\\lambda \\lVert x \\rVert_1`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from gradtx._internal import validate
from gradtx.activations._functions import _float_array

__all__ = ["hardshrink", "softshrink", "tanhshrink"]


def _hard(x: jax.Array, lam: jax.Array) -> jax.Array:
    return jnp.where(jnp.abs(x) > lam, x, jnp.zeros_like(x))


def _soft(x: jax.Array, lam: jax.Array) -> jax.Array:
    zero = jnp.zeros_like(x)
    return jnp.where(x > lam, x - lam, jnp.where(x < -lam, x + lam, zero))


def _shrink(
    fn: str, rule: Callable[[jax.Array, jax.Array], jax.Array], x: ArrayLike, lambd: Any
) -> jax.Array:
    """``rule(x, lambd)``, jitted, once ``lambd`` is checked (a number >= 0)."""
    validate.number(fn, "lambd", lambd, low=0.0, high_open=True)
    return _apply(rule, x, lambd)


@functools.partial(jax.jit, static_argnums=0)
def _apply(
    rule: Callable[[jax.Array, jax.Array], jax.Array], x: ArrayLike, lambd: Any
) -> jax.Array:
    """``rule`` on ``x`` as a float array and ``lambd`` in its dtype."""
    x = _float_array(x)
    return rule(x, jnp.asarray(lambd).astype(x.dtype))


def hardshrink(x: ArrayLike, lambd: Any = 0.5) -> jax.Array:
    r"""Hard shrinkage: zero inside :math:`[-\lambda, \lambda]`, identity outside.

    .. math:: \mathrm{hardshrink}(x) = \begin{cases} x & |x| > \lambda \\
        0 & |x| \le \lambda \end{cases}

    The function jumps at :math:`\pm\lambda`; there its value is 0 and its
    derivative is 0 (the inner side), as in ``torch.nn.functional.hardshrink``.

    Args:
      x: the input.
      lambd: :math:`\lambda \ge 0` (spelt as in PyTorch).

    Returns:
      An array of ``x``'s shape and dtype.

    Raises:
      ValueError: ``lambd < 0``.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.activations import hardshrink
      >>> hardshrink(jnp.array([-1.0, -0.5, 0.2, 0.5, 0.7]))
      Array([-1. ,  0. ,  0. ,  0. ,  0.7], dtype=float32)
    """
    return _shrink("hardshrink", _hard, x, lambd)


def softshrink(x: ArrayLike, lambd: Any = 0.5) -> jax.Array:
    r"""Soft shrinkage (soft thresholding): move :math:`x` towards 0 by :math:`\lambda`.

    .. math:: \mathrm{softshrink}(x) = \begin{cases} x - \lambda & x > \lambda \\
        x + \lambda & x < -\lambda \\ 0 & |x| \le \lambda \end{cases}
        = \operatorname{sign}(x) \max(|x| - \lambda, 0)

    The derivative at the kinks :math:`\pm\lambda` is 0 (the inner side), as in
    ``torch.nn.functional.softshrink``; the ``max`` form above would give 1/2.

    Args:
      x: the input.
      lambd: :math:`\lambda \ge 0` (spelt as in PyTorch).

    Returns:
      An array of ``x``'s shape and dtype.

    Raises:
      ValueError: ``lambd < 0``.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.activations import softshrink
      >>> softshrink(jnp.array([-1.0, -0.5, 0.2, 0.5, 0.75]))
      Array([-0.5 ,  0.  ,  0.  ,  0.  ,  0.25], dtype=float32)
    """
    return _shrink("softshrink", _soft, x, lambd)


def tanhshrink(x: ArrayLike) -> jax.Array:
    r"""Tanh shrinkage: :math:`x - \tanh(x)`, smooth and flat near 0.

    .. math:: \mathrm{tanhshrink}(x) = x - \tanh(x), \qquad
        \mathrm{tanhshrink}'(x) = \tanh^2(x)

    Args:
      x: the input.

    Returns:
      An array of ``x``'s shape and dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.activations import tanhshrink
      >>> tanhshrink(jnp.array([0.0, 1.0]))
      Array([0.       , 0.2384058], dtype=float32)
    """
    return _tanhshrink(x)


@jax.jit
def _tanhshrink(x: ArrayLike) -> jax.Array:
    x = _float_array(x)
    return x - jnp.tanh(x)
