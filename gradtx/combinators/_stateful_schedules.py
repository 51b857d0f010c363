"""Stateful schedules: optax's ``StatefulSchedule`` protocol, ``WrappedSchedule``.

A stateful schedule is an object with ``init() -> state``,
``update(state, **extra_args) -> state`` and ``__call__(state, **extra_args)
-> value``: its value may depend on anything the training step passes as an
extra argument (the loss, say), not only on the step count.
:func:`~gradtx.inject_hyperparams` keeps each one's state in
:class:`InjectStatefulHyperparamsState` (``hyperparams_states``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import safe_increment, zero_count
from gradtx.combinators._injected import InjectedHyperparams, Rules, as_number
from gradtx.core import GradientTransformation, Params, Updates

__all__ = [
    "InjectStatefulHyperparamsState",
    "WrappedSchedule",
    "WrappedScheduleState",
    "is_stateful_schedule",
    "stateful_injection",
]


def is_stateful_schedule(value: Any) -> bool:
    """Whether ``value`` follows optax's ``StatefulSchedule`` protocol."""
    return (
        callable(value)
        and not isinstance(value, type)
        and callable(getattr(value, "init", None))
        and callable(getattr(value, "update", None))
    )


class WrappedScheduleState(NamedTuple):
    """State of a :class:`WrappedSchedule`: the steps so far (optax's field)."""

    count: jax.Array  # type: ignore[assignment]  # int32[]


class WrappedSchedule:
    """A step-count schedule as a stateful one, as optax's ``WrappedSchedule``.

    Its state counts the steps; its value is ``schedule_fn(count)``; extra
    arguments are ignored. :func:`~gradtx.inject_hyperparams` wraps plain
    schedules in it when another argument is a stateful schedule.

    Args:
      schedule_fn: a function of the step count to a number.

    Example:
      >>> import gradtx
      >>> s = gradtx.WrappedSchedule(gradtx.linear_schedule(1.0, 0.0, 4))
      >>> state = s.update(s.update(s.init()))
      >>> s(state)
      Array(0.5, dtype=float32)
    """

    def __init__(self, schedule_fn: Callable[[Any], Any]) -> None:
        if not callable(schedule_fn):
            raise TypeError(
                f"WrappedSchedule: schedule_fn must be a function of the step "
                f"count, got {schedule_fn!r}."
            )
        self.schedule_fn = schedule_fn

    def init(self) -> WrappedScheduleState:
        """The state at step 0."""
        return WrappedScheduleState(count=zero_count())

    def update(self, state: WrappedScheduleState, **extra_args: Any) -> Any:
        """The state one step later (extra arguments are ignored)."""
        del extra_args
        return WrappedScheduleState(count=safe_increment(state.count))

    def __call__(self, state: WrappedScheduleState, **extra_args: Any) -> Any:
        """The schedule's value at the state's count."""
        del extra_args
        return self.schedule_fn(state.count)

    def __repr__(self) -> str:
        return f"WrappedSchedule({self.schedule_fn!r})"


class InjectStatefulHyperparamsState(NamedTuple):
    """State of :func:`~gradtx.inject_hyperparams` with stateful schedules
    (and of :func:`~gradtx.inject_stateful_hyperparams`), optax's fields."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far
    hyperparams: dict[str, jax.Array]  # the values of the last step (or init)
    hyperparams_states: dict[str, Any]  # each schedule's state
    inner_state: Any  # the inner transformation's state


class _At:
    """A stateful schedule at a given state, as a function of the (ignored)
    step count: the form ``validate.scheduled_value`` checks."""

    def __init__(self, schedule: Any, state: Any, extra_args: dict[str, Any]) -> None:
        self.schedule, self.state, self.extra_args = schedule, state, extra_args

    def __call__(self, count: Any) -> Any:
        del count
        return self.schedule(self.state, **self.extra_args)

    def __repr__(self) -> str:
        return repr(self.schedule)


def stateful_injection(
    where: str,
    inner: Callable[[dict[str, Any]], GradientTransformation],
    rules: Rules,
    numeric: dict[str, Any],
    schedules: dict[str, Any],
    dtype: Any,
) -> GradientTransformation:
    """The transformation of ``inject_hyperparams`` with schedule states.

    ``inner`` builds the wrapped transformation from the hyperparameters and
    ``rules`` checks them (both made by ``inject_hyperparams``); ``numeric``
    are the injected numbers, ``schedules`` the schedules (plain ones are
    wrapped in :class:`WrappedSchedule`); ``where`` names the call in messages.
    """
    scheds = {
        k: f if is_stateful_schedule(f) else WrappedSchedule(f)
        for k, f in schedules.items()
    }

    def values(
        count: jax.Array,
        stored: dict[str, Any],
        states: dict[str, Any],
        extra_args: dict[str, Any],
    ) -> InjectedHyperparams:
        out = InjectedHyperparams({k: jnp.asarray(stored[k], dtype) for k in numeric})
        for k, f in scheds.items():
            at = _At(f, states[k], extra_args)
            out[k] = jnp.asarray(validate.scheduled_value(where, k, at, count), dtype)
        out.rules = rules
        return out

    # Checked now, as the factory would check them, not at the first init.
    first = values(zero_count(), numeric, {k: f.init() for k, f in scheds.items()}, {})
    inner({k: as_number(v) for k, v in first.items()})

    def init(params: Params) -> InjectStatefulHyperparamsState:
        count = zero_count()
        states = {k: f.init() for k, f in scheds.items()}
        hparams = values(count, numeric, states, {})
        return InjectStatefulHyperparamsState(
            count=count,
            hyperparams=hparams,
            hyperparams_states=states,
            inner_state=inner(hparams).init(params),
        )

    def update(
        updates: Updates,
        state: InjectStatefulHyperparamsState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, InjectStatefulHyperparamsState]:
        old = state.hyperparams_states
        hparams = values(state.count, state.hyperparams, old, extra_args)
        states = {k: f.update(old[k], **extra_args) for k, f in scheds.items()}
        updates, inner_state = inner(hparams).update(
            updates, state.inner_state, params, **extra_args
        )
        return updates, InjectStatefulHyperparamsState(
            count=safe_increment(state.count),
            hyperparams=hparams,
            hyperparams_states=states,
            inner_state=inner_state,
        )

    return GradientTransformation(init, update)
