"""The initializer registry: every initializer by name (private)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.nn.initializers as jinit

from gradtx._internal import validate
from gradtx.init._defaults import torch_default_bias, torch_default_kernel, uniform
from gradtx.init._jax import variance_scaling
from gradtx.init._structured import dirac, eye, sparse
from gradtx.init._torch import (
    GAINS,
    kaiming_normal,
    kaiming_uniform,
    xavier_normal,
    xavier_uniform,
)

__all__ = ["get", "names"]

# Builders: get(name, **kwargs) returns builder(**kwargs).
_BUILDERS: dict[str, Callable[..., Any]] = {
    "constant": jinit.constant,
    "delta_orthogonal": jinit.delta_orthogonal,
    "dirac": dirac,
    "eye": eye,
    "glorot_normal": jinit.glorot_normal,
    "glorot_uniform": jinit.glorot_uniform,
    "he_normal": jinit.he_normal,
    "he_uniform": jinit.he_uniform,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "lecun_normal": jinit.lecun_normal,
    "lecun_uniform": jinit.lecun_uniform,
    "normal": jinit.normal,
    "orthogonal": jinit.orthogonal,
    "sparse": sparse,
    "torch_default_bias": torch_default_bias,
    "torch_default_kernel": torch_default_kernel,
    "truncated_normal": jinit.truncated_normal,
    "uniform": uniform,
    "variance_scaling": variance_scaling,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
}
# Already initializers in jax (not builders): get(name) returns them as they are.
_READY: dict[str, Callable[..., Any]] = {"ones": jinit.ones, "zeros": jinit.zeros}
_NAMES = {n: n for n in sorted({*_BUILDERS, *_READY})}


def names() -> tuple[str, ...]:
    """The names :func:`get` accepts, sorted.

    Returns:
      A sorted tuple of initializer names.

    Example:
      >>> from gradtx import init
      >>> "kaiming_normal" in init.names() and "he_normal" in init.names()
      True
    """
    return tuple(_NAMES)


def get(name: str, **kwargs: Any) -> Callable[..., jax.Array]:
    """The initializer called ``name``, built with ``kwargs``.

    ``get("kaiming_normal", mode="fan_out")`` is
    ``kaiming_normal(mode="fan_out")``; ``get("zeros")`` and ``get("ones")``
    return jax's initializers themselves (they take no arguments). Names
    follow the package's rule: jax's names have jax's semantics, PyTorch's
    names (``xavier_*``, ``kaiming_*``) PyTorch's. Arguments are checked
    here, not when the initializer is first called.

    Args:
      name: one of :func:`names` (case-insensitive).
      **kwargs: the builder's arguments.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array``.

    Raises:
      ValueError: an unknown name (the message lists the valid names and
        suggests the closest), or an invalid argument value.
      TypeError: an argument the builder does not take, a missing one, or
        any argument for ``zeros``/``ones``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import init
      >>> w = init.get("xavier_uniform", gain=2.0)(jax.random.key(0), (4, 4))
      >>> w.shape
      (4, 4)
      >>> init.get("kaiming_norml")
      Traceback (most recent call last):
      ...
      ValueError: init.get: unknown initializer 'kaiming_norml'. Did you mean ...
    """
    try:
        key = validate.lookup("init.get", "initializer", name, _NAMES)
    except ValueError as err:
        if isinstance(name, str) and name.strip().lower() in GAINS:
            raise ValueError(
                f"{err} ({name!r} is a nonlinearity: pass it to an initializer, "
                f"e.g. get('kaiming_normal', nonlinearity={name!r}).)"
            ) from None
        raise
    if key in _READY:
        if kwargs:
            raise validate.error(
                TypeError,
                "init.get",
                f"{key!r} is already an initializer and takes no arguments, got "
                f"{', '.join(sorted(kwargs))}. Use get({key!r}); for another "
                "constant, get('constant', value=...).",
            )
        return _READY[key]
    builder = _BUILDERS[key]
    signature = inspect.signature(builder)
    try:
        signature.bind(**kwargs)
    except TypeError as err:
        takes = ", ".join(signature.parameters)
        raise TypeError(f"get({key!r}, ...): {err}. {key} takes: {takes}.") from None
    initializer: Callable[..., jax.Array] = builder(**kwargs)
    return initializer
