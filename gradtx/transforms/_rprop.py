"""Rprop's building block: per-coordinate step sizes adapted to gradient signs.

The update rule is written once, on :func:`gradtx.rprop`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import full_like, zeros_like
from gradtx.core import GradientTransformation, Params, Updates, map_leaves

__all__ = ["ScaleByRpropState", "scale_by_rprop"]


class ScaleByRpropState(NamedTuple):
    """State of :func:`scale_by_rprop` (optax's field names).

    For complex params the real and imaginary parts are two coordinates (as
    in PyTorch): each has its step size in the matching part of
    ``step_sizes``.
    """

    step_sizes: Any  # like params, Δ: each coordinate's step size
    prev_updates: Any  # like params, Δ sign(g) of the last step (0 after a sign flip)


def scale_by_rprop(
    learning_rate: Any,
    eta_minus: Any = 0.5,
    eta_plus: Any = 1.2,
    min_step_size: Any = 1e-6,
    max_step_size: Any = 50.0,
    *,
    backtracking: bool = True,
) -> GradientTransformation:
    r"""Rprop's step: :math:`\Delta_t \operatorname{sign}(g_t)` per coordinate.

    The output points up the gradient (follow with ``scale(-1)``, as
    :func:`gradtx.rprop` does). Each step size :math:`\Delta` grows by
    :math:`\eta^+` while the gradient keeps its sign and shrinks by
    :math:`\eta^-` when it flips, within :math:`[\Delta_{min}, \Delta_{max}]`;
    after a flip the step is undone (``backtracking``, Riedmiller & Braun
    1993) or skipped (PyTorch's iRprop⁻). See :func:`gradtx.rprop`.

    Args:
      learning_rate: :math:`\Delta_0 > 0`, every coordinate's initial step
        size (a number: it is the state's starting value, not a schedule).
      eta_minus: :math:`\eta^- \in (0, 1)`.
      eta_plus: :math:`\eta^+ > 1`.
      min_step_size: :math:`\Delta_{min} > 0`.
      max_step_size: :math:`\Delta_{max} \ge \Delta_{min}`.
      backtracking: after a sign flip, revert the previous step (the paper's)
        instead of skipping this one (PyTorch's).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByRpropState`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``learning_rate`` is a schedule.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_rprop(0.1)
      >>> state = tx.init(jnp.zeros(2))
      >>> u, state = tx.update(jnp.array([3.0, -1.0]), state)
      >>> u, state = tx.update(jnp.array([2.0, 1.0]), state)
      >>> u  # grew by 1.2; flipped: the last step (-0.1) is undone
      Array([0.12, 0.1 ], dtype=float32)
    """
    fn = validate.who("scale_by_rprop")
    if callable(learning_rate):
        raise validate.error(
            TypeError,
            fn,
            "learning_rate is Rprop's initial step size, stored in the state, not a "
            f"schedule; got {learning_rate!r}. Pass a number such as 0.01.",
        )
    validate.number(fn, "learning_rate", learning_rate, low=0.0, low_open=True)
    validate.number(
        fn, "eta_minus", eta_minus, low=0.0, high=1.0, low_open=True, high_open=True
    )
    validate.number(fn, "eta_plus", eta_plus, low=1.0, low_open=True)
    validate.number(fn, "min_step_size", min_step_size, low=0.0, low_open=True)
    validate.number(fn, "max_step_size", max_step_size, low=0.0, low_open=True)
    lo, hi = (
        validate.concrete_float(min_step_size),
        validate.concrete_float(max_step_size),
    )
    if lo is not None and hi is not None and lo > hi:
        raise validate.error(
            ValueError,
            fn,
            f"min_step_size must be <= max_step_size, got {min_step_size!r} > "
            f"{max_step_size!r}.",
        )
    validate.boolean(fn, "backtracking", backtracking)
    consts = (eta_minus, eta_plus, min_step_size, max_step_size, backtracking)

    def init(params: Params) -> ScaleByRpropState:
        validate.params(fn, params)
        # A complex coordinate is two: both parts start at Δ0 (PyTorch's too).
        steps = jax.tree.map(
            lambda s: s * (1 + 1j) if jnp.iscomplexobj(s) else s,
            full_like(params, learning_rate),
        )
        return ScaleByRpropState(step_sizes=steps, prev_updates=zeros_like(params))

    def update(
        updates: Updates,
        state: ScaleByRpropState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByRpropState]:
        validate.updates(
            fn,
            updates,
            params,
            state.step_sizes,
            name="scale_by_rprop state.step_sizes",
        )
        out, steps, prev = map_leaves(
            _rprop_leaf,
            updates,
            state.step_sizes,
            state.prev_updates,
            scalars=consts,
            outputs=3,
        )
        return out, ScaleByRpropState(step_sizes=steps, prev_updates=prev)

    return GradientTransformation(init, update)


def _rprop_leaf(
    g: jax.Array, step: jax.Array, prev: jax.Array, *consts: Any
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Real and imaginary parts are separate coordinates (PyTorch's rule)."""
    if jnp.iscomplexobj(g):
        re = _rprop_real(g.real, step.real, prev.real, *consts)
        im = _rprop_real(g.imag, step.imag, prev.imag, *consts)
        return tuple(jax.lax.complex(a, b) for a, b in zip(re, im, strict=True))  # type: ignore[return-value]
    return _rprop_real(g, step, prev, *consts)


def _rprop_real(
    g: jax.Array,
    step: jax.Array,
    prev: jax.Array,
    eta_minus: Any,
    eta_plus: Any,
    min_step: Any,
    max_step: Any,
    backtracking: bool,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Riedmiller & Braun 1993, Figure 2 (``prev`` carries the last sign)."""
    agree = g * prev  # > 0: same sign; < 0: flipped; 0: first step or after a flip
    factor = jnp.where(agree > 0, eta_plus, jnp.where(agree < 0, eta_minus, 1.0))
    new_step = jnp.clip(step * factor.astype(step.dtype), min_step, max_step)
    flipped = agree < 0
    taken = jnp.where(flipped, jnp.zeros_like(g), new_step * jnp.sign(g))
    out = jnp.where(flipped, -prev, taken) if backtracking else taken
    return out, new_step, taken
