"""``inject_hyperparams``: hyperparameters in the state, readable and settable."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate
from gradtx._internal.numerics import safe_increment, zero_count
from gradtx.combinators._injected import InjectedHyperparams, Rules, as_number
from gradtx.combinators._stateful_schedules import (
    is_stateful_schedule,
    stateful_injection,
)
from gradtx.core import (
    GradientTransformation,
    Params,
    Updates,
    as_transformation,
)

__all__ = [
    "InjectHyperparamsState",
    "InjectedHyperparams",
    "inject_hyperparams",
    "inject_stateful_hyperparams",
]


class InjectHyperparamsState(NamedTuple):
    """State of a transformation made by :func:`inject_hyperparams`.

    ``hyperparams`` is a dict (an :class:`InjectedHyperparams`, which also
    knows, as static pytree data, which entries are schedules and how to check
    a new value: :func:`gradtx.tree_set` uses that).
    """

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far
    hyperparams: dict[str, jax.Array]  # the values of the last step (or init)
    inner_state: Any  # the inner transformation's state


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | float | np.number):
        return True
    return isinstance(value, jax.Array | np.ndarray) and np.ndim(value) == 0


def _injects_default(value: Any) -> bool:
    """A default worth injecting: a real number that is not an int (an int
    default is a size, a period or a count, which the program's shapes and
    loops need as a Python value)."""
    if isinstance(value, bool | np.bool_ | int | np.integer):
        return False
    if isinstance(value, float | np.floating):
        return True
    return (
        isinstance(value, jax.Array | np.ndarray)
        and np.ndim(value) == 0
        and jnp.issubdtype(value.dtype, jnp.floating)
    )


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
    (schedules) become hyperparameters, and so do the factory's float
    defaults, as in optax (``inject_hyperparams(gradtx.adam)(1e-3)`` has
    ``b1``, ``b2``, ``eps`` and ``eps_root`` in its state; an int default, a
    size or a period such as ``lbfgs``'s ``memory_size``, is passed as it is
    unless given); everything else (bools, strings,
    ``None``, the ``mask`` argument, a ``key`` (a PRNG key or its int seed is
    not a number to tune, and float32 would round a large seed), and the
    names in ``static_args``) is passed to ``inner_factory`` as is.
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
      ValueError: ``static_args`` names an argument that ``inner_factory``
        does not take (as in optax).
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
    return _injector(
        "inject_hyperparams", inner_factory, static_args, hyperparam_dtype, False
    )


def inject_stateful_hyperparams(
    inner_factory: Callable[..., GradientTransformation],
    static_args: str | Iterable[str] = (),
    hyperparam_dtype: Any = None,
) -> Callable[..., GradientTransformation]:
    """:func:`inject_hyperparams` whose state always has schedule states.

    optax's ``inject_stateful_hyperparams``: the same injection, and the
    state is always an :class:`InjectStatefulHyperparamsState`, with one
    entry in ``hyperparams_states`` per schedule (a plain schedule of the
    step count is wrapped in a :class:`WrappedSchedule`). A stateful schedule
    (an object with ``init()``, ``update(state, **extra_args)`` and
    ``__call__(state, **extra_args)``, optax's ``StatefulSchedule``) gets the
    update's extra arguments, so a value can follow the loss, say.
    :func:`inject_hyperparams` switches to this form by itself when an
    argument is a stateful schedule; optax 0.2.8 deprecates this name for
    that reason, gradtx keeps it without a warning, for a state whose
    structure does not depend on the arguments.

    Args:
      inner_factory: a function returning a transformation, e.g. ``gradtx.adam``.
      static_args: names of arguments never to inject.
      hyperparam_dtype: the dtype of the stored hyperparameters (float32 by
        default, as for :func:`inject_hyperparams`).

    Returns:
      A function with ``inner_factory``'s arguments that returns a
      :class:`~gradtx.GradientTransformation` with state
      :class:`InjectStatefulHyperparamsState`.

    Raises:
      ValueError: ``static_args`` names an argument that ``inner_factory``
        does not take.
      TypeError: at build time, arguments that ``inner_factory`` does not take.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> class HalveOnPlateau:  # a stateful schedule: its state is the value
      ...     def init(self):
      ...         return jnp.asarray(1.0)
      ...     def update(self, state, *, loss_improved=True, **_):
      ...         return jnp.where(loss_improved, state, state / 2)
      ...     def __call__(self, state, **_):
      ...         return state
      >>> tx = gradtx.inject_stateful_hyperparams(gradtx.sgd)(
      ...     learning_rate=HalveOnPlateau())
      >>> state = tx.init(jnp.zeros(1))
      >>> _, state = tx.update(jnp.ones(1), state, loss_improved=False)
      >>> tx.update(jnp.ones(1), state)[0]
      Array([-0.5], dtype=float32)
    """
    return _injector(
        "inject_stateful_hyperparams",
        inner_factory,
        static_args,
        hyperparam_dtype,
        True,
    )


def _injector(
    name: str,
    inner_factory: Callable[..., GradientTransformation],
    static_args: str | Iterable[str],
    hyperparam_dtype: Any,
    stateful: bool,
) -> Callable[..., GradientTransformation]:
    """The factory wrapper of both public functions (``name`` is the one called)."""
    dtype = validate.dtype(
        name,
        "hyperparam_dtype",
        jnp.float32 if hyperparam_dtype is None else hyperparam_dtype,
        why="(an integer or bool dtype would truncate a learning rate of 1e-3 to 0)",
    )
    static = {static_args} if isinstance(static_args, str) else set(static_args)
    try:
        signature = inspect.signature(inner_factory)
    except (TypeError, ValueError):
        signature = None
    if signature is not None and not static <= set(signature.parameters):
        fn = getattr(inner_factory, "__name__", "inner_factory")
        raise validate.error(
            ValueError,
            name,
            f"static_args {sorted(static - set(signature.parameters))} are not "
            f"arguments of {fn}, which takes {list(signature.parameters)}.",
        )
    static.add("mask")  # a mask function is never a schedule
    static.add("key")  # a PRNG key or seed (add_noise, noisy_sgd) is not tuned

    def build(*args: Any, **kwargs: Any) -> GradientTransformation:
        if signature is not None:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(
                    f"{name}({getattr(inner_factory, '__name__', '')}): {e}"
                ) from None
            explicit = set(bound.arguments)
            bound.apply_defaults()
            variadic = {
                name
                for name, p in signature.parameters.items()
                if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            }
            given = {
                k: v
                for k, v in bound.arguments.items()
                if k in explicit or (k not in variadic and _injects_default(v))
            }
        else:
            if args:
                raise validate.error(
                    TypeError,
                    name,
                    "the factory's signature cannot be read, so its arguments "
                    "must be given by keyword.",
                )
            given = dict(kwargs)
        numeric = {k: v for k, v in given.items() if k not in static and _is_numeric(v)}
        schedules = {
            k: v
            for k, v in given.items()
            # A class (a dtype such as jnp.float32) is callable, not a schedule.
            if k not in static
            and callable(v)
            and not isinstance(v, type)
            and k not in numeric
        }
        fixed = {k: v for k, v in given.items() if k not in numeric | schedules}
        fn = getattr(inner_factory, "__name__", "")
        where = f"{name}({fn})"

        def inner(hparams: dict[str, Any]) -> GradientTransformation:
            return as_transformation(inner_factory(**fixed, **hparams), f"{fn}(...)")

        rules = Rules(fn, tuple(sorted(numeric)), tuple(sorted(schedules)), inner)
        if stateful or any(map(is_stateful_schedule, schedules.values())):
            return stateful_injection(where, inner, rules, numeric, schedules, dtype)

        def values(count: jax.Array, stored: dict[str, jax.Array]) -> dict[str, Any]:
            out = InjectedHyperparams(
                {k: jnp.asarray(stored[k], dtype) for k in numeric}
            )
            out.update(
                {
                    k: jnp.asarray(validate.scheduled_value(where, k, f, count), dtype)
                    for k, f in schedules.items()
                }
            )
            out.rules = rules
            return out

        # Checked now, as the factory would check them, not at the first init.
        first = {
            k: validate.scheduled_value(where, k, f, zero_count())
            for k, f in schedules.items()
        }
        inner({**numeric, **{k: as_number(v) for k, v in first.items()}})

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
            updates, inner_state = tx.update(
                updates, state.inner_state, params, **extra_args
            )
            return updates, InjectHyperparamsState(
                count=safe_increment(state.count),
                hyperparams=hparams,
                inner_state=inner_state,
            )

        return GradientTransformation(init, update)

    return build
