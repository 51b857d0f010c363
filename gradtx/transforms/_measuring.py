"""Measurements of the updates kept in the state: ``snapshot``, ``measure_with_ema``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import (
    bias_correction,
    leafwise,
    safe_increment,
    zero_count,
)
from gradtx.core import EmptyState, GradientTransformation, Params, Updates
from gradtx.transforms._moments import DECAY, ema_of_updates
from gradtx.transforms._momentum import EmaState

__all__ = ["SnapshotState", "measure_with_ema", "snapshot"]


class SnapshotState(NamedTuple):
    """State of :func:`snapshot` (optax's field name)."""

    measurement: dict[str, Any]  # {measure_name: the last step's measurement}


def _callable(fn: str, measure: Any) -> None:
    if not callable(measure):
        raise validate.error(
            TypeError,
            fn,
            f"measure must be a function of the updates (e.g. gradtx.tree.norm), "
            f"got {measure!r}.",
        )


def snapshot(
    measure_name: str, measure: Callable[[Updates], Any]
) -> GradientTransformation:
    r"""Keeps ``measure(updates)`` in the state; passes the updates unchanged.

    .. math::
       u \leftarrow u, \qquad s \leftarrow \{\text{name}: m(u)\}

    For debugging a chain: put it between two transformations and read the
    updates as they were there, e.g. ``gradtx.tree.get(state, name)``. The
    state starts as ``measure(params)`` (so ``measure`` must give the same
    shapes and dtypes for params and updates).

    Args:
      measure_name: the key of the measurement in the state.
      measure: a function of the updates (a tree of arrays) to a tree of
        arrays.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`SnapshotState`.

    Raises:
      TypeError: ``measure_name`` is not a str, or ``measure`` not callable.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.snapshot("norm", gradtx.tree.norm)
      >>> _, state = tx.update(jnp.array([3.0, 4.0]), tx.init(jnp.zeros(2)))
      >>> state.measurement["norm"]
      Array(5., dtype=float32)
    """
    fn = validate.who("snapshot")
    if not isinstance(measure_name, str):
        raise validate.error(
            TypeError, fn, f"measure_name must be a str, got {measure_name!r}."
        )
    _callable(fn, measure)

    def init(params: Params) -> SnapshotState:
        validate.params(fn, params)
        return SnapshotState({measure_name: measure(params)})

    def update(
        updates: Updates, state: SnapshotState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, SnapshotState]:
        validate.updates(fn, updates, params)
        return updates, SnapshotState({measure_name: measure(updates)})

    return GradientTransformation(init, update)


def measure_with_ema(
    measure: Callable[[Updates], Any],
    decay: Any,
    debias: bool = True,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    r"""A moving average of ``measure(updates)``; emits it in place of the updates.

    .. math::
       m_t = \beta\, m_{t-1} + (1-\beta)\, f(u_t), \qquad
       u_t \leftarrow m_t / (1 - \beta^t) \;\;\text{(debiased)}\;\; \text{or } m_t

    as :func:`~gradtx.ema` of the measurement :math:`f(u_t)`. Meant for a
    monitor of measurements (optax's ``monitor``); on its own it replaces
    the updates by the average. The state is that of optax's chain,
    ``(EmptyState(), EmaState(count, ema))``. A bool or integer measurement
    (e.g. ``norm > 1``, for the fraction of clipped steps) is averaged in
    float32: optax starts such an average as bool and changes its dtype at
    the first step, which breaks ``lax.scan`` and recompiles ``jit``.

    Args:
      measure: a function of the updates to a tree of arrays; the average
        starts as zeros shaped like ``measure(params)``.
      decay: :math:`\beta \in [0, 1)`.
      debias: divide by :math:`1-\beta^t`.
      accumulator_dtype: dtype of :math:`m` (default: the measurement's,
        float32 for a bool or integer one).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      TypeError: ``measure`` is not callable, or ``debias`` not a bool.
      ValueError: ``decay`` is outside :math:`[0, 1)`.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.measure_with_ema(lambda u: gradtx.tree.norm(u) > 1.0, 0.5)
      >>> state = tx.init(jnp.zeros(2))
      >>> _, state = tx.update(jnp.array([3.0, 4.0]), state)
      >>> frac, state = tx.update(jnp.array([0.3, 0.4]), state)
      >>> frac  # (0.5 * 0.5 * 1 + 0.5 * 0) / (1 - 0.5**2)
      Array(0.33333334, dtype=float32)
    """
    fn = validate.who("measure_with_ema")
    _callable(fn, measure)
    validate.number(fn, "decay", decay, **DECAY)
    validate.boolean(fn, "debias", debias)
    if accumulator_dtype is not None:
        validate.dtype(fn, "accumulator_dtype", accumulator_dtype)

    def acc_dtype(x: Any) -> Any:
        if accumulator_dtype is not None:
            return jnp.dtype(accumulator_dtype)
        d = jnp.result_type(x)
        return d if jnp.issubdtype(d, jnp.inexact) else jnp.dtype(jnp.float32)

    def init(params: Params) -> tuple[EmptyState, EmaState]:
        validate.params(fn, params)
        zeros = jax.tree.map(
            lambda x: jnp.zeros(jnp.shape(x), acc_dtype(x)), measure(params)
        )
        return EmptyState(), EmaState(count=zero_count(), ema=zeros)

    def update(
        updates: Updates,
        state: tuple[EmptyState, EmaState],
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Any, tuple[EmptyState, EmaState]]:
        validate.updates(fn, updates, params)
        empty, ema_state = state
        measurement = measure(updates)
        validate.tree_matches(
            fn,
            measurement,
            ema_state.ema,
            got_name="measure(updates)",
            expected_name="measure(params), the average's shape",
            dtypes="ignore",
        )
        count = safe_increment(ema_state.count)
        bc = bias_correction(decay, count)

        def leaf(
            old: jax.Array, x: jax.Array, bc: jax.Array
        ) -> tuple[jax.Array, jax.Array]:
            m = ema_of_updates(jnp.asarray(x).astype(old.dtype), old, decay)
            out = m / bc.astype(jnp.real(m).dtype) if debias else m
            return out.astype(old.dtype), m.astype(old.dtype)

        out, new = leafwise(leaf, ema_state.ema, measurement, scalars=(bc,), outputs=2)
        return out, (empty, EmaState(count=count, ema=new))

    return GradientTransformation(init, update)
