"""``inject_hyperparams``: hyperparameters in the state, readable and settable."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._numerics import safe_increment, zero_count
from gradtx.core import (
    GradientTransformation,
    Params,
    Updates,
    _as_transform,
    _call_update,
    _takes_extra_args,
)

__all__ = ["InjectHyperparamsState", "inject_hyperparams"]


class InjectHyperparamsState(NamedTuple):
    """State of a transformation made by :func:`inject_hyperparams`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far
    hyperparams: dict[str, jax.Array]  # the values of the last step (or init)
    inner_state: Any  # the inner transformation's state


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | float | np.number):
        return True
    return isinstance(value, jax.Array | np.ndarray) and np.ndim(value) == 0


def inject_hyperparams(
    inner_factory: Callable[..., GradientTransformation],
    static_args: str | Iterable[str] = (),
    hyperparam_dtype: Any = None,
) -> Callable[..., GradientTransformation]:
    """Moves an optimizer's numeric hyperparameters into its state.

    ``inject_hyperparams(gradtx.adam)(learning_rate=1e-3, b1=0.9)`` builds
    Adam whose ``learning_rate`` and ``b1`` live in
    ``state.hyperparams["learning_rate"]`` and ``state.hyperparams["b1"]``: read
    them to log, replace them between steps to change them (an LR finder, a
    manual decay, population-based training), and the jitted step does not
    recompile, because they are arrays in the state, not constants of the
    program. A schedule (any callable) is evaluated at each step's count and
    its value stored under its name, so the value used by the last step can
    be logged.

    Numeric arguments (Python and NumPy numbers, scalar arrays) and callables
    (schedules) become hyperparameters; everything else (bools, strings,
    ``None``, the ``mask`` argument, and the names in ``static_args``) is
    passed to ``inner_factory`` as is.
    Hyperparameters are stored in ``hyperparam_dtype``, by default float32
    whatever the params' dtype (also under ``jax_enable_x64``, where a float64
    scalar would promote float32 math to float64). optax's default, the
    params' dtype, rounds a bfloat16 ``b2 = 0.999`` to 1.0, and Adam's second
    moment then never moves.

    Set a hyperparameter with :func:`gradtx.tree_set`, which keeps its dtype::

        state = gradtx.tree_set(state, learning_rate=1e-4)

    (Assigning a Python float into the dict changes its type to a weak one and
    makes the step recompile once.)

    Args:
      inner_factory: a function returning a transformation, e.g. ``gradtx.adam``.
      static_args: names of arguments never to inject.
      hyperparam_dtype: the dtype of the stored hyperparameters.

    Returns:
      A function with ``inner_factory``'s arguments that returns a
      :class:`~gradtx.GradientTransformation` with state
      :class:`InjectHyperparamsState`.

    Raises:
      TypeError: at build time, arguments that ``inner_factory`` does not take
        (the message names them).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.inject_hyperparams(gradtx.sgd)(learning_rate=0.1)
      >>> state = tx.init(jnp.zeros(2))
      >>> state.hyperparams["learning_rate"]
      Array(0.1, dtype=float32)
      >>> state = gradtx.tree_set(state, learning_rate=0.5)
      >>> tx.update(jnp.ones(2), state)[0]
      Array([-0.5, -0.5], dtype=float32)
    """
    static = {static_args} if isinstance(static_args, str) else set(static_args)
    static.add("mask")  # a mask function is never a schedule
    try:
        signature = inspect.signature(inner_factory)
    except (TypeError, ValueError):
        signature = None

    def build(*args: Any, **kwargs: Any) -> GradientTransformation:
        if signature is not None:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(
                    f"inject_hyperparams({getattr(inner_factory, '__name__', '')}): {e}"
                ) from None
            given = dict(bound.arguments)
        else:
            if args:
                raise TypeError(
                    "inject_hyperparams needs keyword arguments for a factory "
                    "whose signature cannot be read."
                )
            given = dict(kwargs)
        numeric = {k: v for k, v in given.items() if k not in static and _is_numeric(v)}
        schedules = {
            k: v
            for k, v in given.items()
            if k not in static and callable(v) and k not in numeric
        }
        fixed = {k: v for k, v in given.items() if k not in numeric | schedules}
        dtype = hyperparam_dtype or jnp.float32

        def values(count: jax.Array, stored: dict[str, jax.Array]) -> dict[str, Any]:
            out = {k: jnp.asarray(stored[k], dtype) for k in numeric}
            out.update({k: jnp.asarray(f(count), dtype) for k, f in schedules.items()})
            return out

        def inner(hparams: dict[str, Any]) -> GradientTransformation:
            tx = inner_factory(**fixed, **hparams)
            return _as_transform(tx, f"{getattr(inner_factory, '__name__', '')}(...)")

        def init(params: Params) -> InjectHyperparamsState:
            count = zero_count()
            stored = {k: jnp.asarray(v, dtype) for k, v in numeric.items()}
            hparams = values(count, stored)
            return InjectHyperparamsState(
                count=count,
                hyperparams=hparams,
                inner_state=inner(hparams).init(params),
            )

        def update(
            updates: Updates,
            state: InjectHyperparamsState,
            params: Params | None = None,
            **extra_args: Any,
        ) -> tuple[Updates, InjectHyperparamsState]:
            hparams = values(state.count, state.hyperparams)
            tx = inner(hparams)
            updates, inner_state = _call_update(
                tx,
                _takes_extra_args(tx.update),
                updates,
                state.inner_state,
                params,
                extra_args,
            )
            return updates, InjectHyperparamsState(
                count=safe_increment(state.count),
                hyperparams=hparams,
                inner_state=inner_state,
            )

        return GradientTransformation(init, update)

    return build
