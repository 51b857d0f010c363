"""Activation functions, and a registry that finds them by name.

The functions here add to ``jax.nn`` those it lacks (PReLU, RReLU, the
shrinkage functions, Snake, squared ReLU, SwiGLU, GEGLU). :func:`get` finds
any activation by name, these and ``jax.nn``'s element-wise ones and ``glu``
(under their ``jax.nn`` names), so a config file can say ``"gelu"``:

>>> import jax.numpy as jnp
>>> import gradtx.activations
>>> gradtx.activations.get("squared_relu")(jnp.array([-1.0, 2.0]))
Array([0., 4.], dtype=float32)

``get`` returns the function itself; pass a parametrized activation's
parameters at call time or bind them with ``functools.partial``. Learnable
versions (PReLU, RReLU with train/eval modes) are Flax modules in
:mod:`gradtx.nn`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import jax

from gradtx._internal import validate
from gradtx.activations._functions import prelu as prelu
from gradtx.activations._functions import rrelu as rrelu
from gradtx.activations._functions import snake as snake
from gradtx.activations._functions import squared_relu as squared_relu
from gradtx.activations._functions import threshold as threshold
from gradtx.activations._gated import geglu as geglu
from gradtx.activations._gated import swiglu as swiglu
from gradtx.activations._shrink import hardshrink as hardshrink
from gradtx.activations._shrink import softshrink as softshrink
from gradtx.activations._shrink import tanhshrink as tanhshrink

__all__ = [
    "geglu",
    "get",
    "hardshrink",
    "names",
    "prelu",
    "rrelu",
    "snake",
    "softshrink",
    "squared_relu",
    "swiglu",
    "tanhshrink",
    "threshold",
]

_JAX_NAMES = (
    "celu",
    "elu",
    "gelu",
    "glu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "identity",
    "leaky_relu",
    "log_sigmoid",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_sign",
    "softplus",
    "sparse_plus",
    "sparse_sigmoid",
    "squareplus",
    "swish",
    "tanh",
)

_ACTIVATIONS: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        **{name: getattr(jax.nn, name) for name in _JAX_NAMES},
        "linear": jax.nn.identity,  # Keras's name for the identity
        "geglu": geglu,
        "hardshrink": hardshrink,
        "prelu": prelu,
        "rrelu": rrelu,
        "snake": snake,
        "softshrink": softshrink,
        "squared_relu": squared_relu,
        "swiglu": swiglu,
        "tanhshrink": tanhshrink,
        "threshold": threshold,
    }
)


def get(name: str) -> Callable[..., Any]:
    """Returns the activation function called ``name``.

    ``jax.nn``'s activations keep their ``jax.nn`` names (``"silu"`` and
    ``"swish"``, ``"hard_silu"`` and ``"hard_swish"`` are the same functions);
    ``"linear"`` is the identity. Matching is exact, then case-insensitive
    with ``-`` read as ``_``. The result is the function itself: parameters
    such as ``leaky_relu``'s ``negative_slope`` or ``prelu``'s are passed when
    it is called.

    Args:
      name: one of :func:`names`.

    Returns:
      The function, e.g. ``jax.nn.gelu`` for ``"gelu"``.

    Raises:
      ValueError: an unknown name; the message lists the valid names and the
        closest matches.
      TypeError: ``name`` is not a string.

    Example:
      >>> import functools
      >>> import jax, jax.numpy as jnp
      >>> import gradtx.activations
      >>> gradtx.activations.get("gelu") is jax.nn.gelu
      True
      >>> act = functools.partial(gradtx.activations.get("Leaky-ReLU"), negative_slope=0.1)
      >>> act(jnp.array([-1.0, 1.0]))
      Array([-0.1,  1. ], dtype=float32)
      >>> gradtx.activations.get("rleu")
      Traceback (most recent call last):
      ...
      ValueError: activations.get: unknown activation 'rleu'. Did you mean 'relu' ...
    """  # noqa: E501
    return validate.lookup("activations.get", "activation", name, _ACTIVATIONS)


def names() -> tuple[str, ...]:
    """Returns the names :func:`get` accepts, sorted.

    Example:
      >>> import gradtx.activations
      >>> names = gradtx.activations.names()
      >>> "swiglu" in names and "gelu" in names, list(names) == sorted(names)
      (True, True)
    """
    return tuple(sorted(_ACTIVATIONS))
