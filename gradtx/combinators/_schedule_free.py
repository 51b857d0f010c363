"""``schedule_free``: interpolation and averaging instead of a decaying schedule.

Defazio et al. 2024; optax.contrib's wrapper, state and evaluation params.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import (
    COUNT_DTYPE,
    compute_dtype,
    leafwise,
    real_dtype,
    safe_increment,
    up,
)
from gradtx.core import (
    GradientTransformation,
    GradientTransformationExtraArgs,
    Params,
    Updates,
    as_transformation,
    with_extra_args_support,
)
from gradtx.schedules import ScalarOrSchedule

__all__ = ["ScheduleFreeState", "schedule_free", "schedule_free_eval_params"]


class ScheduleFreeState(NamedTuple):
    """State of :func:`schedule_free` (optax.contrib's field names).

    The scalars are float32, or float64 when every param is float64 (optax:
    the params' lowest dtype, bfloat16 included).
    """

    b1: jax.Array  # float[], the interpolation weight (for the eval params)
    weight_sum: jax.Array  # float[], the sum of the averaging weights so far
    step_count: jax.Array  # int32[], the 1-based number of the next step
    max_lr: jax.Array  # float[], the largest learning rate so far
    base_optimizer_state: Any  # the base optimizer's state
    z: Any  # like params (dtype: state_dtype or the param's): the base iterates


_NEEDS_PARAMS = (
    "schedule_free recovers the averaged iterate x from the params y and its "
    "state z, so it needs the params: tx.update(grads, state, params)."
)
_NO_STATE = (
    "found no ScheduleFreeState in the state given ({got}). Pass the state of "
    "a schedule_free, schedule_free_sgd or schedule_free_adamw optimizer (or a "
    "state that holds exactly one, e.g. a chain's)."
)


def _scalar_dtype(params: Params) -> Any:
    """float32, or float64 when every (real part of a) param is float64."""
    kinds = {
        compute_dtype(real_dtype(jnp.result_type(x))) for x in jax.tree.leaves(params)
    }
    if not kinds or jnp.dtype(jnp.float32) in kinds:
        return jnp.dtype(jnp.float32)
    return min(kinds, key=lambda d: jnp.dtype(d).itemsize)


def _z_zeros_dtype(p: jax.Array, state_dtype: Any) -> Any:
    if state_dtype is None:
        return jnp.result_type(p)
    if jnp.iscomplexobj(p):  # a real state_dtype would drop the imaginary part
        return jnp.promote_types(state_dtype, jnp.complex64)
    return jnp.dtype(state_dtype)


def _interpolate(
    y: jax.Array, z: jax.Array, u: jax.Array, ck: jax.Array, b1: Any
) -> tuple[jax.Array, jax.Array]:
    """One leaf: the update ``y' - y`` and the new ``z``.

    With ``z' = z + u``, the average ``x = (y - (1-b1) z) / b1`` (not stored:
    recovered from the params ``y``), ``x' = (1-c) x + c z'`` and
    ``y' = b1 x' + (1-b1) z'``, the update is ``y' - y = c (z' - y) +
    (1-c)(1-b1) u``: no division by ``b1``, and it reads the new ``z`` and not
    the old, so both are written in place.
    """
    z_new = (up(z) + up(u)).astype(z.dtype)  # rounded as stored
    yf, uf = up(y), up(u)
    ck = ck.astype(real_dtype(yf.dtype))
    out = ck * (up(z_new) - yf) + (1 - ck) * (1 - b1) * uf
    return out.astype(y.dtype), z_new


def schedule_free(
    base_optimizer: GradientTransformation,
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    weight_lr_power: Any = 2.0,
    state_dtype: Any = None,
) -> GradientTransformationExtraArgs:
    r"""Makes ``base_optimizer`` schedule-free (Defazio et al. 2024).

    The base optimizer (without momentum) steps a sequence :math:`z`; the
    gradients are taken at an interpolation :math:`y` (the params), and the
    point to evaluate is a weighted average :math:`x` of the :math:`z`:

    .. math::
       y_t = (1-\beta_1)\, z_t + \beta_1 x_t, \qquad
       z_{t+1} = z_t + \mathrm{base}(\nabla f(y_t)), \qquad
       x_{t+1} = (1-c_{t+1})\, x_t + c_{t+1} z_{t+1},

    .. math::
       c_{t+1} = \frac{\gamma_{\max,t}^{p}}{\sum_{i=1}^{t} \gamma_{\max,i}^{p}},
       \qquad \gamma_{\max,t} = \max_{i \le t} \gamma_i

    with :math:`x_1 = z_1 = y_1` the initial params, :math:`\gamma_t =`
    ``learning_rate(t)`` and :math:`p =` ``weight_lr_power``. With a constant
    rate :math:`c_{t+1} = 1/t`: :math:`x` is the running mean of the
    :math:`z`. The state holds :math:`z` only; :math:`x` is recovered from
    :math:`y` and :math:`z`, so the memory is the base optimizer's plus one
    copy of the params. Evaluate the model at
    :func:`schedule_free_eval_params` (:math:`x`), not at the params.

    ``learning_rate`` only weighs the average; the base optimizer takes its
    own steps. It is called with the 1-based step number :math:`t`
    (optax's ``step_count``), while the base optimizer's schedule gets the
    0-based count: for one schedule ``s`` of the 0-based count, pass
    ``learning_rate=lambda t: s(t - 1)`` (``optax.contrib.schedule_free_sgd``
    passes ``s`` to both, so its base step lags a step behind the weights:
    with a warmup from 0 its first step is 0). :func:`gradtx.schedule_free_sgd`
    and :func:`gradtx.schedule_free_adamw` build it right. Turn off the base
    optimizer's momentum: the interpolation replaces it.

    The same as ``optax.contrib.schedule_free`` (its state, and its ``b1 > 0``
    requirement: :math:`x` is recovered by dividing by :math:`\beta_1`), but
    the scalars are float32 or wider with low-precision params, and the
    element-wise math float32 or wider.

    Args:
      base_optimizer: the optimizer stepping :math:`z`, with no momentum
        (e.g. ``gradtx.sgd(lr)``).
      learning_rate: :math:`\gamma \ge 0` for the averaging weights, a scalar
        or a schedule of the 1-based step (see above).
      b1: :math:`\beta_1 \in (0, 1]`, the interpolation weight (0.9; 0.95 or
        0.98 may work better for long runs).
      weight_lr_power: :math:`p \ge 0` (2: the weights of the warmup's steps
        grow as :math:`\gamma_t^2`; 0: a plain mean).
      state_dtype: dtype of :math:`z` (default: each param's).

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`ScheduleFreeState`.

    Raises:
      TypeError: ``base_optimizer`` is not a transformation, or
        ``state_dtype`` not a floating dtype.
      ValueError: a hyperparameter is out of range; at ``update``, no params.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> tx = gradtx.schedule_free(gradtx.sgd(0.5), learning_rate=0.5, b1=0.9)
      >>> params = jnp.array([1.0])
      >>> state = tx.init(params)
      >>> for _ in range(3):
      ...     grads = jax.grad(lambda w: jnp.sum(w ** 2))(params)
      ...     updates, state = tx.update(grads, state, params)
      ...     params = gradtx.apply_updates(params, updates)
      >>> x = gradtx.schedule_free_eval_params(state, params)  # evaluate here

    References:
      Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, *The Road Less
      Scheduled*, NeurIPS 2024, https://arxiv.org/abs/2405.15682
    """
    fn = validate.who("schedule_free")
    base = with_extra_args_support(
        as_transformation(base_optimizer, "schedule_free's base_optimizer")
    )
    validate.number(fn, "learning_rate", learning_rate, low=0.0, allow_schedule=True)
    validate.number(
        fn,
        "b1",
        b1,
        low=0.0,
        low_open=True,
        high=1.0,
        hint="The average x is recovered from the params as (y - (1 - b1) z) / b1.",
    )
    validate.number(fn, "weight_lr_power", weight_lr_power, low=0.0)
    validate.dtype(fn, "state_dtype", state_dtype, kind="inexact", optional=True)

    def init(params: Params) -> ScheduleFreeState:
        validate.params(fn, params)
        dtype = _scalar_dtype(params)
        # A copy (also without a cast): z and the params are distinct buffers,
        # so a donating step may write both in place.
        z = jax.tree.map(
            lambda p: jnp.array(p, dtype=_z_zeros_dtype(p, state_dtype), copy=True),
            params,
        )
        return ScheduleFreeState(
            b1=jnp.asarray(b1, dtype),
            weight_sum=jnp.zeros([], dtype),
            step_count=jnp.ones([], COUNT_DTYPE),
            max_lr=jnp.zeros([], dtype),
            base_optimizer_state=base.init(params),
            z=z,
        )

    def update(
        updates: Updates,
        state: ScheduleFreeState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, ScheduleFreeState]:
        validate.updates(
            fn,
            updates,
            params,
            state.z,
            name="schedule_free state.z",
            dtypes="ignore",
            needs_params=_NEEDS_PARAMS,
        )
        dtype = state.max_lr.dtype
        lr: Any
        if callable(learning_rate):
            lr = validate.scheduled_value(
                fn, "learning_rate", learning_rate, state.step_count, low=0.0
            )
        else:
            lr = learning_rate
        max_lr = jnp.maximum(state.max_lr, jnp.asarray(lr).astype(dtype))
        weight = (max_lr**weight_lr_power).astype(dtype)
        total = state.weight_sum + weight
        # The first weights may be 0 (a warmup from 0): 0/0 counts as 0. A NaN
        # rate gives NaN, as it should.
        safe = jnp.where(total > 0, total, jnp.ones_like(total))
        ck = jnp.where(total > 0, weight / safe, jnp.zeros_like(total))
        ck = jnp.where(jnp.isnan(total), jnp.full_like(total, jnp.nan), ck)

        base_updates, base_state = base.update(
            updates, state.base_optimizer_state, params, **extra_args
        )
        out, z = leafwise(
            _interpolate, params, state.z, base_updates, scalars=(ck, b1), outputs=2
        )
        return out, ScheduleFreeState(
            b1=state.b1,
            weight_sum=total,
            step_count=safe_increment(state.step_count),
            max_lr=max_lr,
            base_optimizer_state=base_state,
            z=z,
        )

    return GradientTransformationExtraArgs(init, update)


def _find_state(state: Any) -> ScheduleFreeState:
    found = [
        s
        for s in jax.tree.leaves(
            state, is_leaf=lambda x: isinstance(x, ScheduleFreeState)
        )
        if isinstance(s, ScheduleFreeState)
    ]
    if len(found) != 1:
        got = f"{len(found)} of them" if found else type(state).__name__
        raise validate.error(
            ValueError, "schedule_free_eval_params", _NO_STATE.format(got=got)
        )
    return found[0]


def _average(y: jax.Array, z: jax.Array, b1: jax.Array) -> jax.Array:
    yf, zf = up(y), up(z)
    b1 = b1.astype(real_dtype(yf.dtype))
    return ((yf - (1 - b1) * zf) / b1).astype(y.dtype)


def schedule_free_eval_params(state: Any, params: Params) -> Params:
    r"""The params to evaluate a schedule-free model at: the average :math:`x`.

    :math:`x = (y - (1-\beta_1) z) / \beta_1`, from the params :math:`y` and
    the state's :math:`z` and :math:`\beta_1` (see :func:`schedule_free`).
    ``state`` may be the :class:`ScheduleFreeState` or any state holding
    exactly one (a chain's, an ``inject_hyperparams``' ...; optax's needs the
    ScheduleFreeState itself).

    Args:
      state: the optimizer's state.
      params: the params (:math:`y`).

    Returns:
      :math:`x`, shaped and typed like ``params``.

    Raises:
      ValueError: ``state`` holds no ScheduleFreeState, or more than one.
      TreeMismatchError: ``params`` is not shaped like the state's ``z``.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.schedule_free_sgd(0.1, b1=0.9)
      >>> params = jnp.array([1.0])
      >>> state = tx.init(params)
      >>> for _ in range(2):  # z: 1, 0.9, 0.8; x: their running mean
      ...     updates, state = tx.update(jnp.array([1.0]), state, params)
      ...     params = gradtx.apply_updates(params, updates)
      >>> params, gradtx.schedule_free_eval_params(state, params)  # y = 0.9 x + 0.1 z
      (Array([0.845], dtype=float32), Array([0.85], dtype=float32))
    """
    sf = _find_state(state)
    validate.tree_matches(
        "schedule_free_eval_params",
        params,
        sf.z,
        got_name="params",
        expected_name="state.z",
        dtypes="ignore",
    )
    return leafwise(_average, params, sf.z, scalars=(sf.b1,))
