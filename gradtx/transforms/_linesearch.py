r"""Line searches: what they share, the backtracking (Armijo) line search, and
:func:`value_and_grad_from_state`.

A line search is the last block of a chain: given the direction :math:`u`
that the blocks before it produced, it finds a step size :math:`\eta` along
it by evaluating the objective, and outputs :math:`\eta u`. Its ``update``
takes, as keyword arguments, the objective's ``value`` and ``grad`` at the
params and ``value_fn`` itself; other keyword arguments are passed on to
``value_fn`` (a batch, say). The zoom (strong Wolfe) line search is in
``_zoom_linesearch.py``.

For complex params, ``grad`` is JAX's gradient (``jax.grad``, the conjugate
of the ascent direction), so that the slope of :math:`\eta \mapsto
f(w + \eta u)` is :math:`\mathrm{Re} \sum u\, g`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import up
from gradtx.core import GradientTransformationExtraArgs, Params, Updates
from gradtx.transforms._lbfgs import real_dot, real_dtype_of
from gradtx.tree import get as tree_get

__all__ = [
    "BacktrackingLinesearchInfo",
    "ScaleByBacktrackingLinesearchState",
    "scale_by_backtracking_linesearch",
    "value_and_grad_from_state",
]

_NEEDS_OBJECTIVE = (
    "update needs the objective: tx.update(grads, state, params, value=value, "
    "grad=grads, value_fn=f), with value, grads = jax.value_and_grad(f)(params) "
    "(or gradtx.value_and_grad_from_state(f)). Missing: {missing}."
)


def objective(
    fn: str,
    updates: Updates,
    params: Params | None,
    value: Any,
    grad: Updates,
    value_fn: Any,
    extra_args: dict[str, Any],
) -> tuple[dict[str, Any], Callable[..., Any]]:
    """Checks a line search's inputs; returns the keyword arguments of
    ``value_fn`` (all the extra ones: a TypeError names any it does not take),
    and ``value_fn``."""
    given = {"value": value, "grad": grad, "value_fn": value_fn}
    if missing := [k for k, v in given.items() if v is None]:
        raise validate.error(
            TypeError, fn, _NEEDS_OBJECTIVE.format(missing=", ".join(missing))
        )
    validate.updates(
        fn,
        updates,
        params,
        needs_params="a line search evaluates value_fn around them: pass them.",
    )
    validate.updates(fn, grad, params)
    if not callable(value_fn):
        raise validate.error(
            TypeError,
            fn,
            f"value_fn must be the objective, a function; got {value_fn!r}.",
        )
    try:
        sig = inspect.signature(value_fn).parameters
    except (TypeError, ValueError):
        return dict(extra_args), value_fn
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.values()):
        return dict(extra_args), value_fn
    if unused := sorted(set(extra_args) - set(sig)):
        raise validate.error(
            TypeError,
            fn,
            f"Unexpected keyword arguments {unused} passed to update: value_fn "
            "does not take them (update passes its extra keyword arguments to "
            "value_fn: a batch, say).",
        )
    return dict(extra_args), value_fn


def along(params: Params, stepsize: jax.Array, updates: Updates) -> Params:
    """``params + stepsize * updates``, in each param's dtype."""
    return jax.tree.map(
        lambda w, u: (up(w) + stepsize.astype(up(w).real.dtype) * up(u)).astype(
            w.dtype
        ),
        params,
        updates,
    )


def slope(updates: Updates, grad: Updates, dtype: Any) -> jax.Array:
    r"""The derivative of :math:`\eta \mapsto f(w + \eta u)`: :math:`\mathrm{Re}
    \sum u\, g`, for ``grad`` in JAX's convention."""
    u = [jnp.conj(x) for x in jax.tree.leaves(updates)]
    return real_dot(u, jax.tree.leaves(grad), dtype)


def as_value(value: Any, dtype: Any) -> jax.Array:
    """The objective's value as a real scalar of ``dtype`` (NaN stays NaN)."""
    return jnp.real(jnp.asarray(value)).astype(dtype).reshape(())


class BacktrackingLinesearchInfo(NamedTuple):
    """What :func:`scale_by_backtracking_linesearch` did at its last step."""

    num_linesearch_steps: jax.Array  # int32[]: evaluations of value_fn
    decrease_error: jax.Array  # []: > 0 where no step gave a sufficient decrease


class ScaleByBacktrackingLinesearchState(NamedTuple):
    """State of :func:`scale_by_backtracking_linesearch` (optax's fields)."""

    learning_rate: jax.Array  # []: the step size found at the last step
    value: jax.Array  # []: the objective at the step taken (for the next one)
    grad: Any  # like params (store_grad=True) or None: the gradient there
    info: BacktrackingLinesearchInfo


def scale_by_backtracking_linesearch(
    max_backtracking_steps: int,
    slope_rtol: Any = 1e-4,
    decrease_factor: Any = 0.8,
    increase_factor: Any = 1.5,
    max_learning_rate: Any = 1.0,
    atol: Any = 0.0,
    rtol: Any = 0.0,
    store_grad: bool = False,
    verbose: bool = False,
) -> GradientTransformationExtraArgs:
    r"""Scales the direction by a step size with sufficient decrease (Armijo).

    Tries :math:`\eta_0 = \min(\gamma_{inc}\, \eta_{prev}, \eta_{max})`, then
    :math:`\eta \leftarrow \delta \eta` until

    .. math::
       f(w + \eta u) \le (1 + r) f(w) + c\, \eta\, \mathrm{Re}\langle u, \nabla
       f(w)\rangle + a

    (Nocedal & Wright, Algorithm 3.1), and outputs :math:`\eta u`; ``u`` must
    be a descent direction. If every try gives a NaN or an infinite value, the
    step size is 0.

    Args:
      max_backtracking_steps: how many times :math:`\eta` may shrink (an int
        >= 1; ``value_fn`` is called at most one time more).
      slope_rtol: :math:`c \in [0, 1)` (0: a simple decrease, :math:`f(w +
        \eta u) \le (1 + r) f(w) + a`).
      decrease_factor: :math:`\delta \in (0, 1)`.
      increase_factor: :math:`\gamma_{inc} \ge 1` (``math.inf``: start each step
        at ``max_learning_rate``).
      max_learning_rate: :math:`\eta_{max} > 0`.
      atol: :math:`a \ge 0`.
      rtol: :math:`r \ge 0`.
      store_grad: also compute the gradient at the step taken and keep it in
        the state with the value, for :func:`value_and_grad_from_state`.
      verbose: print a line when no step size gives a sufficient decrease.

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`ScaleByBacktrackingLinesearchState`, whose ``update`` takes the
      keyword arguments ``value``, ``grad`` and ``value_fn`` (and passes any
      others to ``value_fn``).

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``store_grad`` or ``verbose`` is not a bool.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> f = lambda w: jnp.sum(w ** 2)
      >>> tx = gradtx.chain(gradtx.scale(-1.0),
      ...                   gradtx.scale_by_backtracking_linesearch(15))
      >>> w = jnp.array([1.0, 2.0])
      >>> value, grad = jax.value_and_grad(f)(w)
      >>> u, _ = tx.update(grad, tx.init(w), w, value=value, grad=grad, value_fn=f)
      >>> f(w + u) < f(w)
      Array(True, dtype=bool)

    References:
      Nocedal & Wright, *Numerical Optimization*, 2nd ed., Springer 2006,
      Algorithm 3.1, https://doi.org/10.1007/978-0-387-40065-5
    """
    fn = validate.who("scale_by_backtracking_linesearch")
    validate.integer(
        fn, "max_backtracking_steps", max_backtracking_steps, low=1,
        meaning="times the step size may shrink",
    )  # fmt: skip
    validate.number(fn, "slope_rtol", slope_rtol, low=0.0, high=1.0, high_open=True)
    validate.number(
        fn,
        "decrease_factor",
        decrease_factor,
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
    )
    # A Python bool, decided here: the factor may be an array (or a tracer,
    # under inject_hyperparams), and update may run inside a trace.
    restart = validate.concrete_float(increase_factor) == math.inf
    if not restart:
        validate.number(fn, "increase_factor", increase_factor, low=1.0)
    validate.number(fn, "max_learning_rate", max_learning_rate, low=0.0, low_open=True)
    validate.number(fn, "atol", atol, low=0.0)
    validate.number(fn, "rtol", rtol, low=0.0)
    validate.boolean(fn, "store_grad", store_grad)
    validate.boolean(fn, "verbose", verbose)
    steps = int(max_backtracking_steps)

    def init(params: Params) -> ScaleByBacktrackingLinesearchState:
        validate.params(fn, params)
        dtype = real_dtype_of(params)
        return ScaleByBacktrackingLinesearchState(
            learning_rate=jnp.ones((), dtype),
            value=jnp.full((), jnp.inf, dtype),
            grad=jax.tree.map(jnp.zeros_like, params) if store_grad else None,
            info=BacktrackingLinesearchInfo(
                num_linesearch_steps=jnp.zeros((), jnp.int32),
                decrease_error=jnp.full((), jnp.inf, dtype),
            ),
        )

    def update(
        updates: Updates,
        state: ScaleByBacktrackingLinesearchState,
        params: Params | None = None,
        *,
        value: Any = None,
        grad: Updates = None,
        value_fn: Callable[..., Any] | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, ScaleByBacktrackingLinesearchState]:
        kwargs, value_fn = objective(
            fn, updates, params, value, grad, value_fn, extra_args
        )
        dtype = state.learning_rate.dtype
        value0 = as_value(value, dtype)
        slope0 = slope(updates, grad, dtype)
        f = lambda w: as_value(value_fn(w, **kwargs), dtype)  # noqa: E731

        def error(eta: jax.Array, new_value: jax.Array) -> jax.Array:
            err = new_value - (1 + rtol) * value0 - eta * slope_rtol * slope0
            err = jnp.maximum(jnp.where(jnp.isnan(err), jnp.inf, err), 0)
            return err.astype(dtype)

        def search(carry: Any) -> Any:
            eta, _, _, i = carry
            eta = jnp.where(i > 0, decrease_factor * eta, eta).astype(dtype)
            new_value = f(along(params, eta, updates))
            return eta, new_value, error(eta, new_value), i + 1

        if restart:  # (inf * 0 would be NaN)
            eta0 = jnp.asarray(max_learning_rate)
        else:
            eta0 = jnp.minimum(increase_factor * state.learning_rate, max_learning_rate)
        start = (eta0.astype(dtype), value0, jnp.full((), jnp.inf, dtype), jnp.int32(0))
        eta, new_value, err, count = jax.lax.while_loop(
            lambda c: ~(c[2] <= atol) & (c[3] <= steps), search, start
        )
        eta = jnp.where(jnp.isinf(err), 0, eta).astype(dtype)
        new_grad = None
        if store_grad:
            g = jax.grad(lambda w: value_fn(w, **kwargs).real)(
                along(params, eta, updates)
            )
            new_grad = jax.tree.map(lambda a, b: a.astype(b.dtype), g, state.grad)
        if verbose:
            jax.lax.cond(
                err > atol,
                lambda: jax.debug.print(
                    "scale_by_backtracking_linesearch: no step size gave a sufficient "
                    "decrease (decrease error {e}); step size {eta}.",
                    e=err,
                    eta=eta,
                ),
                lambda: None,
            )
        out = jax.tree.map(
            lambda u: (up(u) * eta.astype(up(u).real.dtype)).astype(u.dtype), updates
        )
        info = BacktrackingLinesearchInfo(
            num_linesearch_steps=count, decrease_error=err
        )
        return out, ScaleByBacktrackingLinesearchState(eta, new_value, new_grad, info)

    return GradientTransformationExtraArgs(init, update)


def value_and_grad_from_state(
    value_fn: Callable[..., Any],
) -> Callable[..., tuple[jax.Array, Any]]:
    """``jax.value_and_grad(value_fn)``, reusing what a line search computed.

    A line search evaluates the objective (and, the zoom one or the
    backtracking one with ``store_grad=True``, its gradient) at the step it
    takes, and keeps both in its state. The returned function
    ``value_and_grad(params, *args, state=state, **kwargs)`` returns them when
    the state's value is finite (so not at the first step), and otherwise
    computes ``jax.value_and_grad(value_fn)(params, *args, **kwargs)``. For a
    deterministic objective only: with a new batch each step, the stored
    value belongs to the old one.

    Args:
      value_fn: the objective, a function returning a real scalar.

    Returns:
      The function described above.

    Raises:
      ValueError: (when called) the state holds no ``value`` and ``grad``, or
        its ``grad`` is None (a backtracking line search without
        ``store_grad=True``).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> f = lambda w: jnp.sum((w - 1.0) ** 2)
      >>> tx = gradtx.lbfgs()
      >>> w = jnp.zeros(2)
      >>> state = tx.init(w)
      >>> value_and_grad = gradtx.value_and_grad_from_state(f)
      >>> for _ in range(2):
      ...     value, grad = value_and_grad(w, state=state)
      ...     u, state = tx.update(grad, state, w, value=value, grad=grad, value_fn=f)
      ...     w = gradtx.apply_updates(w, u)
      >>> w
      Array([1., 1.], dtype=float32)
    """
    if not callable(value_fn):
        raise TypeError(
            f"value_and_grad_from_state: value_fn must be a function, got {value_fn!r}."
        )

    def value_and_grad(
        params: Params, *fn_args: Any, state: Any, **fn_kw: Any
    ) -> tuple[jax.Array, Any]:
        value = tree_get(state, "value", None)
        grad = tree_get(state, "grad", None)
        if value is None or grad is None:
            raise ValueError(
                "value_and_grad_from_state: the state holds no value and gradient "
                "of the objective. Use it with a line search that keeps them "
                "(scale_by_zoom_linesearch, as in lbfgs(), or "
                "scale_by_backtracking_linesearch(..., store_grad=True))."
            )

        def compute() -> tuple[jax.Array, Any]:
            v, g = jax.value_and_grad(value_fn)(params, *fn_args, **fn_kw)
            return jnp.asarray(v).astype(value.dtype), jax.tree.map(
                lambda a, b: jnp.asarray(a).astype(b.dtype), g, grad
            )

        return jax.lax.cond(jnp.isfinite(value), lambda: (value, grad), compute)

    return value_and_grad
