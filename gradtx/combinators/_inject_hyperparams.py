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
from gradtx.core import (
    GradientTransformation,
    Params,
    Updates,
    as_transformation,
)

__all__ = ["InjectHyperparamsState", "InjectedHyperparams", "inject_hyperparams"]


class InjectHyperparamsState(NamedTuple):
    """State of a transformation made by :func:`inject_hyperparams`.

    ``hyperparams`` is a dict (an :class:`InjectedHyperparams`, which also
    knows, as static pytree data, which entries are schedules and how to check
    a new value: :func:`gradtx.tree_set` uses that).
    """

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far
    hyperparams: dict[str, jax.Array]  # the values of the last step (or init)
    inner_state: Any  # the inner transformation's state


_SCHEDULED = (
    "{name} is a schedule in this inject_hyperparams({fn}) state: its value is "
    "recomputed from the step count at every step, so a value set here would "
    "be overwritten by the next step. To change a schedule, rebuild the "
    "optimizer with the new schedule and carry the state over (e.g. "
    "tree_set(new_tx.init(params), count=tree_get(state, 'count'))), or "
    "multiply it by an injected factor: chain(inject_hyperparams({fn})(...), "
    "inject_hyperparams(gradtx.scale)(step_size=1.0)) and set step_size."
)


class _Rules:
    """How :func:`gradtx.tree_set` checks new hyperparameter values.

    Static pytree data of :class:`InjectedHyperparams`. Two are equal when they
    have the same names and the same scheduled names, whatever the factory:
    optimizers rebuilt inside a jitted step (a closure made anew at each call)
    keep one state structure.
    """

    __slots__ = ("build", "fn", "names", "scheduled")

    def __init__(
        self,
        fn: str,
        names: tuple[str, ...],
        scheduled: tuple[str, ...],
        build: Callable[[dict[str, Any]], Any],
    ) -> None:
        self.fn, self.names, self.scheduled, self.build = fn, names, scheduled, build

    def _key(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.names, self.scheduled

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rules) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"<inject_hyperparams({self.fn}) scheduled={list(self.scheduled)}>"


class InjectedHyperparams(dict[str, Any]):
    """The ``hyperparams`` dict of an :class:`InjectHyperparamsState`.

    A plain dict of scalar arrays for every use (read, log, assign), and a
    pytree like a dict (same keys and paths); it also carries, as static data,
    which entries are schedules and the factory's checks, so that
    :func:`gradtx.tree_set` refuses a value the factory would refuse and a
    value for a schedule (which the next step would overwrite).
    """

    rules: _Rules | None = None

    def checked_replace(
        self, changes: dict[str, Any], given: dict[str, Any]
    ) -> InjectedHyperparams:
        """A copy with ``changes`` (names to new arrays), checked as at build.

        ``given`` holds the values as the user gave them (Python numbers stay
        concrete inside a jit trace, where their arrays may not be).
        """
        out = InjectedHyperparams({**self, **changes})
        out.rules = rules = self.rules
        if rules is None:
            return out
        for name in changes:
            if name in rules.scheduled:
                text = _SCHEDULED.format(name=name, fn=rules.fn)
                raise validate.error(ValueError, "tree_set", text)
        values = {k: _as_number(given.get(k, v)) for k, v in out.items()}
        try:
            rules.build(values)
        except (ValueError, TypeError) as e:
            shown = ", ".join(f"{k}={values[k]!r}" for k in changes)
            raise type(e)(f"tree_set({shown}): {e}") from None
        return out


def _as_number(x: Any) -> Any:
    """A concrete scalar as a Python number (for messages and checks)."""
    if isinstance(x, jax.core.Tracer) or np.ndim(x) != 0:
        return x
    return np.asarray(x).item()


def _flatten_with_keys(
    h: InjectedHyperparams,
) -> tuple[list[tuple[Any, Any]], tuple[tuple[str, ...], _Rules | None]]:
    keys = tuple(sorted(h))
    children = [(jax.tree_util.DictKey(k), h[k]) for k in keys]
    return children, (keys, h.rules)


def _unflatten(
    aux: tuple[tuple[str, ...], _Rules | None], children: Iterable[Any]
) -> InjectedHyperparams:
    keys, rules = aux
    out = InjectedHyperparams(zip(keys, children, strict=True))
    out.rules = rules
    return out


jax.tree_util.register_pytree_with_keys(
    InjectedHyperparams,
    _flatten_with_keys,
    _unflatten,
    lambda h: ([h[k] for k in sorted(h)], (tuple(sorted(h)), h.rules)),
)


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
    dtype = validate.dtype(
        "inject_hyperparams",
        "hyperparam_dtype",
        jnp.float32 if hyperparam_dtype is None else hyperparam_dtype,
        why="(an integer or bool dtype would truncate a learning rate of 1e-3 to 0)",
    )
    static = {static_args} if isinstance(static_args, str) else set(static_args)
    static.add("mask")  # a mask function is never a schedule
    static.add("key")  # a PRNG key or seed (add_noise, noisy_sgd) is not tuned
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
                    "inject_hyperparams",
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
        where = f"inject_hyperparams({fn})"

        def inner(hparams: dict[str, Any]) -> GradientTransformation:
            return as_transformation(inner_factory(**fixed, **hparams), f"{fn}(...)")

        rules = _Rules(fn, tuple(sorted(numeric)), tuple(sorted(schedules)), inner)

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
        inner({**numeric, **{k: _as_number(v) for k, v in first.items()}})

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
