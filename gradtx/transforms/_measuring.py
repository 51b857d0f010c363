"""Measurements of the updates kept in the state: ``snapshot``, ``monitor``,
``measure_with_ema``."""

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
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    Params,
    Updates,
    stateless,
    with_extra_args_support,
)
from gradtx.transforms._moments import DECAY, ema_of_updates
from gradtx.transforms._momentum import EmaState

__all__ = ["MonitorState", "SnapshotState", "measure_with_ema", "monitor", "snapshot"]


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


class MonitorState(NamedTuple):
    """State of :func:`monitor` (optax's fields)."""

    measurements: dict[str, Any]  # {name: the last step's measurement}
    measure_states: tuple[Any, ...]  # each measure's state, in dict order


def monitor(measures: dict[str, Any]) -> GradientTransformation:
    r"""Keeps several measurements of the updates, some stateful, in the state.

    .. math::
       u \leftarrow u, \qquad
       s \leftarrow \{\text{name}_i: m_i(u)\}_i

    optax's ``monitor``: each entry of ``measures`` is either a function of
    the updates (as for :func:`snapshot`) or a transformation whose *output*
    is the measurement, such as :func:`measure_with_ema` (a moving average of
    a measurement, e.g. the fraction of clipped steps); the transformations'
    states are carried in ``measure_states``. The updates pass unchanged.
    Read a measurement with ``gradtx.tree_get(state, name)``. Before the
    first update the measurements are zeros of their shapes and dtypes (optax
    starts with an empty dict, so its state changes structure at the first
    step, which a ``lax.scan`` carry cannot do and which recompiles ``jit``).
    gradtx's earlier ``monitor`` (norms of the updates and params around an
    inner transformation) is :func:`~gradtx.monitor_norms`.

    Args:
      measures: names to functions of the updates, or to transformations
        whose update returns the measurement.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`MonitorState`; it forwards ``params`` and extra arguments to
      the measures.

    Raises:
      TypeError: ``measures`` is not a dict of str names to functions or
        transformations.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.monitor({
      ...     "norm": gradtx.tree.norm,
      ...     "clipped": gradtx.measure_with_ema(
      ...         lambda u: gradtx.tree.norm(u) > 1.0, decay=0.5),
      ... })
      >>> state = tx.init(jnp.zeros(2))
      >>> _, state = tx.update(jnp.array([3.0, 4.0]), state)
      >>> _, state = tx.update(jnp.array([0.3, 0.4]), state)
      >>> gradtx.tree_get(state, "norm"), gradtx.tree_get(state, "clipped")
      (Array(0.5, dtype=float32), Array(0.33333334, dtype=float32))
    """
    fn = validate.who("monitor")
    if not isinstance(measures, dict):
        raise validate.error(
            TypeError,
            fn,
            f"measures must be a dict of names to functions of the updates or "
            f"transformations, got {type(measures).__name__}. (gradtx's monitor "
            "of norms around an inner transformation is gradtx.monitor_norms.)",
        )
    txs: dict[str, GradientTransformation] = {}
    for name, measure in measures.items():
        if not isinstance(name, str):
            raise validate.error(
                TypeError, fn, f"measures' keys must be str names, got {name!r}."
            )
        if isinstance(measure, GradientTransformation) or (
            hasattr(measure, "init") and hasattr(measure, "update")
        ):
            txs[name] = with_extra_args_support(measure)
        elif callable(measure):
            txs[name] = stateless(_outputs(measure))
        else:
            raise validate.error(
                TypeError,
                fn,
                f"measures[{name!r}] must be a function of the updates or a "
                f"transformation, got {measure!r}.",
            )
    names = tuple(txs)

    def init(params: Params) -> MonitorState:
        validate.params(fn, params)
        states = tuple(txs[n].init(params) for n in names)
        # Zeros shaped like each measurement (of updates shaped like the
        # params): the state keeps one structure from init on, so it can be
        # a lax.scan carry and a jitted step compiles once.
        measurements = {
            n: jax.tree.map(
                lambda a: jnp.zeros(a.shape, a.dtype),
                jax.eval_shape(lambda p, s, n=n: txs[n].update(p, s, p)[0], params, st),
            )
            for n, st in zip(names, states, strict=True)
        }
        return MonitorState(measurements, states)

    def update(
        updates: Updates,
        state: MonitorState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, MonitorState]:
        validate.updates(fn, updates, params)
        measurements, new_states = {}, []
        for name, old in zip(names, state.measure_states, strict=True):
            measurements[name], new = txs[name].update(
                updates, old, params, **extra_args
            )
            new_states.append(new)
        return updates, MonitorState(measurements, tuple(new_states))

    return GradientTransformation(init, update)


def _outputs(measure: Callable[[Updates], Any]) -> Callable[[Updates, Any], Any]:
    """``measure`` as a stateless update: its output replaces the updates."""
    return lambda updates, params: measure(updates)


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
