r"""The zoom line search: a step size satisfying the strong Wolfe conditions.

Nocedal & Wright's Algorithms 3.5 (widen until an interval holds a good step)
and 3.6 (zoom into it by cubic, quadratic or bisection steps), with optax's
arguments and safeguards (Hager & Zhang's approximate decrease condition near
a minimum; the best step with a sufficient decrease when the curvature
condition cannot be met). What the line searches share is in
``_linesearch.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import up
from gradtx.core import GradientTransformationExtraArgs, Params, Updates
from gradtx.transforms._lbfgs import real_dtype_of
from gradtx.transforms._linesearch import along, as_value, objective, slope

__all__ = [
    "ScaleByZoomLinesearchState",
    "ZoomLinesearchInfo",
    "scale_by_zoom_linesearch",
]

_GUESSES = ("one", "keep")


class ZoomLinesearchInfo(NamedTuple):
    """What :func:`scale_by_zoom_linesearch` did at its last step."""

    num_linesearch_steps: jax.Array  # int32[]: evaluations of value_fn
    decrease_error: jax.Array  # []: > 0 where the decrease condition failed
    curvature_error: jax.Array  # []: > 0 where the curvature condition failed


class ScaleByZoomLinesearchState(NamedTuple):
    """State of :func:`scale_by_zoom_linesearch` (optax's fields)."""

    learning_rate: jax.Array  # []: the step size found at the last step
    value: jax.Array  # []: the objective at the step taken (for the next one)
    grad: Any  # like params: the gradient there
    info: ZoomLinesearchInfo


class _Search(NamedTuple):
    """The search's loop state: the last point tried, the interval, the best
    point with a sufficient decrease (all scalars but the gradients)."""

    count: jax.Array  # type: ignore[assignment]  # int32[], evaluations so far
    stepsize: jax.Array
    value: jax.Array
    grad: Any
    slope: jax.Array
    decrease_error: jax.Array
    curvature_error: jax.Array
    interval_found: jax.Array
    done: jax.Array
    failed: jax.Array
    low: jax.Array  # low / high: value(low) <= value(high), not low < high
    value_low: jax.Array
    slope_low: jax.Array
    high: jax.Array
    value_high: jax.Array
    slope_high: jax.Array
    cubic_ref: jax.Array  # a third point for the cubic interpolation
    value_cubic_ref: jax.Array
    safe_stepsize: jax.Array
    safe_value: jax.Array
    safe_grad: Any


def _pick(c: jax.Array, a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    """``a`` where ``c``, else ``b``, entry by entry."""
    return tuple(jnp.where(c, x, y) for x, y in zip(a, b, strict=True))


def _cubicmin(a: Any, fa: Any, fpa: Any, b: Any, fb: Any, c: Any, fc: Any) -> Any:
    """The minimizer of the cubic through (a, fa), (b, fb), (c, fc) with slope
    fpa at a (NaN or inf when there is none: then it is not used)."""
    db, dc = b - a, c - a
    denom = (db * dc) ** 2 * (db - dc)
    rb, rc = fb - fa - fpa * db, fc - fa - fpa * dc
    ca = (dc**2 * rb - db**2 * rc) / denom
    cb = (-(dc**3) * rb + db**3 * rc) / denom
    return a + (-cb + jnp.sqrt(cb * cb - 3 * ca * fpa)) / (3 * ca)


def _quadmin(a: Any, fa: Any, fpa: Any, b: Any, fb: Any) -> Any:
    """The minimizer of the parabola through (a, fa), (b, fb), slope fpa at a."""
    db = b - a
    curvature = (fb - fa - fpa * db) / db**2
    return a - fpa / (2 * curvature)


def scale_by_zoom_linesearch(
    max_linesearch_steps: int,
    max_learning_rate: Any = None,
    tol: Any = 0.0,
    increase_factor: Any = 2.0,
    slope_rtol: Any = 1e-4,
    curv_rtol: Any = 0.9,
    approx_dec_rtol: Any = 1e-6,
    stepsize_precision: Any = 1e-5,
    initial_guess_strategy: str = "keep",
    verbose: bool = False,
) -> GradientTransformationExtraArgs:
    r"""Scales the direction by a step size satisfying the strong Wolfe conditions.

    With :math:`\phi(\eta) = f(w + \eta u)`, it looks for :math:`\eta` with

    .. math::
       \phi(\eta) \le \phi(0) + c_1 \eta \phi'(0) + \epsilon, \qquad
       |\phi'(\eta)| \le c_2 |\phi'(0)| + \epsilon

    (Nocedal & Wright, eq. 3.7): first widening :math:`\eta` by
    ``increase_factor`` until an interval must hold such a step (Algorithm
    3.5), then shrinking the interval by the minimizer of a cubic or a
    quadratic fit, or by bisection (Algorithm 3.6). Near a minimum, where
    rounding hides a decrease, the first condition may instead be Hager &
    Zhang's approximate one, :math:`\phi'(\eta) \le (2c_1 - 1)\phi'(0)` while
    :math:`\phi(\eta) \le \phi(0) + c_3 |\phi(0)|` (``approx_dec_rtol=None``:
    Nocedal & Wright's alone). When no step meets both conditions in
    ``max_linesearch_steps`` evaluations (or the interval gets shorter than
    ``stepsize_precision``), it takes the best step with a sufficient decrease,
    or the last one tried. Outputs :math:`\eta u`.

    Args:
      max_linesearch_steps: the most evaluations of ``value_fn`` per step (an
        int >= 1).
      max_learning_rate: the largest step size, > 0 (None: no bound).
      tol: :math:`\epsilon \ge 0`.
      increase_factor: how much the step size grows while no interval is
        found, > 1.
      slope_rtol: :math:`c_1 \in (0, 1)`.
      curv_rtol: :math:`c_2 \in (c_1, 1)` for strong Wolfe steps (larger
        values, ``inf`` included, only weaken the curvature condition).
      approx_dec_rtol: :math:`c_3 \ge 0`, or None.
      stepsize_precision: the interval length under which the search stops if
        it has a step with a sufficient decrease, >= 0.
      initial_guess_strategy: ``"one"`` (start at 1: Newton and quasi-Newton
        directions, as in :func:`gradtx.lbfgs`) or ``"keep"`` (start at the
        last step size).
      verbose: print a line when the search fails.

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`ScaleByZoomLinesearchState`, whose ``update`` takes the keyword
      arguments ``value``, ``grad`` and ``value_fn`` (and passes any others to
      ``value_fn``). The state keeps the value and gradient at the step taken
      (see :func:`gradtx.value_and_grad_from_state`).

    Raises:
      ValueError: a hyperparameter is out of range or
        ``initial_guess_strategy`` is unknown.
      TypeError: ``verbose`` is not a bool.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> f = lambda w: jnp.sum((w - 3.0) ** 2)
      >>> tx = gradtx.chain(gradtx.scale(-1.0), gradtx.scale_by_zoom_linesearch(10))
      >>> w = jnp.zeros(2)
      >>> value, grad = jax.value_and_grad(f)(w)
      >>> u, state = tx.update(grad, tx.init(w), w, value=value, grad=grad, value_fn=f)
      >>> w + u, state[1].learning_rate  # the exact minimum along -grad
      (Array([3., 3.], dtype=float32), Array(0.5, dtype=float32))

    References:
      Nocedal & Wright, *Numerical Optimization*, 2nd ed., Springer 2006,
      Algorithms 3.5 and 3.6, https://doi.org/10.1007/978-0-387-40065-5
      Hager & Zhang, *Algorithm 851: CG_DESCENT*, ACM TOMS 2006,
      https://doi.org/10.1145/1132973.1132979
    """
    fn = validate.who("scale_by_zoom_linesearch")
    validate.integer(
        fn, "max_linesearch_steps", max_linesearch_steps, low=1,
        meaning="evaluations of value_fn per step",
    )  # fmt: skip
    validate.optional_number(
        fn, "max_learning_rate", max_learning_rate, low=0.0, low_open=True
    )
    validate.number(fn, "tol", tol, low=0.0)
    validate.number(fn, "increase_factor", increase_factor, low=1.0, low_open=True)
    validate.number(
        fn, "slope_rtol", slope_rtol, low=0.0, high=1.0, low_open=True, high_open=True
    )
    if validate.concrete_float(curv_rtol) != math.inf:
        validate.number(fn, "curv_rtol", curv_rtol, low=0.0, low_open=True)
    validate.optional_number(fn, "approx_dec_rtol", approx_dec_rtol, low=0.0)
    validate.number(fn, "stepsize_precision", stepsize_precision, low=0.0)
    validate.choice(fn, "initial_guess_strategy", initial_guess_strategy, _GUESSES)
    validate.boolean(fn, "verbose", verbose)
    steps = int(max_linesearch_steps)

    def init(params: Params) -> ScaleByZoomLinesearchState:
        validate.params(fn, params)
        dtype = real_dtype_of(params)
        inf = jnp.full((), jnp.inf, dtype)
        return ScaleByZoomLinesearchState(
            learning_rate=jnp.ones((), dtype),
            value=inf,
            grad=jax.tree.map(jnp.zeros_like, params),
            info=ZoomLinesearchInfo(jnp.zeros((), jnp.int32), inf, inf),
        )

    def update(
        updates: Updates,
        state: ScaleByZoomLinesearchState,
        params: Params | None = None,
        *,
        value: Any = None,
        grad: Updates = None,
        value_fn: Callable[..., Any] | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, ScaleByZoomLinesearchState]:
        kwargs, value_fn = objective(
            fn, updates, params, value, grad, value_fn, extra_args
        )
        dtype = state.learning_rate.dtype
        value0 = as_value(value, dtype)
        grad0 = jax.tree.map(lambda a, b: a.astype(b.dtype), grad, state.grad)
        slope0 = slope(updates, grad0, dtype)
        value_and_grad = jax.value_and_grad(lambda w: value_fn(w, **kwargs).real)
        s = lambda x: jnp.asarray(x, dtype)  # noqa: E731
        guess = s(1.0) if initial_guess_strategy == "one" else state.learning_rate

        def errors(eta: Any, f: Any, df: Any) -> tuple[jax.Array, jax.Array]:
            dec = f - value0 - slope_rtol * eta * slope0  # eq. (3.7a)
            if approx_dec_rtol is not None:  # Hager & Zhang 2006, eq. (23)
                approx = jnp.maximum(
                    df - (2 * slope_rtol - 1) * slope0,
                    f - value0 - approx_dec_rtol * jnp.abs(value0),
                )
                dec = jnp.minimum(dec, approx)
            curv = jnp.abs(df) - curv_rtol * jnp.abs(slope0)  # eq. (3.7b)
            fix = lambda e: s(jnp.where(jnp.isnan(e), jnp.inf, jnp.maximum(e, 0)))  # noqa: E731
            return fix(dec), fix(curv)

        def trial(st: _Search) -> tuple[jax.Array, jax.Array]:
            """The next step size to try, and whether it reached the maximum."""
            widened = jnp.where(st.count == 0, guess, increase_factor * st.stepsize)
            reached = jnp.asarray(False)
            if max_learning_rate is not None:
                reached = widened >= max_learning_rate
                widened = jnp.minimum(widened, max_learning_rate)
            lo, hi = st.low, st.high
            delta = jnp.abs(hi - lo)
            left, right = jnp.minimum(lo, hi), jnp.maximum(lo, hi)
            cubic = _cubicmin(
                lo, st.value_low, st.slope_low, hi, st.value_high,
                st.cubic_ref, st.value_cubic_ref,
            )  # fmt: skip
            quad = _quadmin(lo, st.value_low, st.slope_low, hi, st.value_high)
            middle = jnp.where(
                (cubic > left + 0.2 * delta) & (cubic < right - 0.2 * delta),
                cubic,
                jnp.where(
                    (quad > left + 0.1 * delta) & (quad < right - 0.1 * delta),
                    quad,
                    (lo + hi) / 2,
                ),
            )
            eta = jnp.where(st.interval_found, middle, widened)
            return s(eta), reached & ~st.interval_found

        def step(st: _Search) -> _Search:
            eta, reached = trial(st)
            f, g = value_and_grad(along(params, eta, updates))
            f = as_value(f, dtype)
            g = jax.tree.map(lambda a, b: a.astype(b.dtype), g, state.grad)
            df = slope(updates, g, dtype)
            dec, curv = errors(eta, f, df)
            good = jnp.maximum(dec, curv) <= tol
            zooming = st.interval_found
            # Algorithm 3.5: the new point bounds an interval...
            high_is_new = (dec > 0) | ((f >= st.value) & (st.count > 0))
            low_is_new = (df >= 0) & ~high_is_new
            # ... Algorithm 3.6: the new point replaces an end.
            z_high_is_new = (dec > 0) | (f >= st.value_low)
            z_high_is_low = (df * (st.high - st.low) >= 0) & ~z_high_is_new
            new = (eta, f, df)
            prev = (st.stepsize, st.value, st.slope)
            lo = (st.low, st.value_low, st.slope_low)
            hi = (st.high, st.value_high, st.slope_high)
            s_low = _pick(low_is_new, new, prev)
            s_high = _pick(low_is_new, prev, new)
            z_low = _pick(z_high_is_new, lo, new)
            z_high = _pick(z_high_is_new, new, _pick(z_high_is_low, lo, hi))
            z_ref = _pick(z_high_is_new | z_high_is_low, hi[:2], lo[:2])
            low = _pick(zooming, z_low, s_low)
            high = _pick(zooming, z_high, s_high)
            ref = _pick(zooming, z_ref, s_low[:2])
            # The best step with a sufficient decrease, kept in case the
            # curvature condition cannot be met (searching: the latest).
            keep = (dec <= tol) & (~zooming | (f < st.safe_value))
            safe = _pick(keep, (eta, f), (st.safe_stepsize, st.safe_value))
            safe_grad = jax.tree.map(
                lambda a, b: jnp.where(keep, a, b), g, st.safe_grad
            )
            found = zooming | high_is_new | low_is_new | good
            done = good | reached & ~found
            too_small = jnp.abs(st.high - st.low) <= stepsize_precision
            failed = (
                (st.count + 1 >= steps) | (zooming & too_small & (safe[0] > 0))
            ) & ~done
            # Failed: the best safe step; the last one if there is none (unless
            # its value is not finite: then the step size 0).
            fall_back = failed & ((safe[0] > 0) | jnp.isinf(dec))
            eta, f = _pick(fall_back, safe, (eta, f))
            g = jax.tree.map(lambda a, b: jnp.where(fall_back, a, b), safe_grad, g)
            return _Search(
                count=st.count + 1, stepsize=eta, value=f, grad=g, slope=df,
                decrease_error=dec, curvature_error=curv, interval_found=found,
                done=done, failed=failed,
                low=low[0], value_low=low[1], slope_low=low[2],
                high=high[0], value_high=high[1], slope_high=high[2],
                cubic_ref=ref[0], value_cubic_ref=ref[1],
                safe_stepsize=safe[0], safe_value=safe[1], safe_grad=safe_grad,
            )  # fmt: skip

        zero, inf = s(0.0), s(jnp.inf)
        start = _Search(
            jnp.int32(0), zero, value0, grad0, slope0, inf, inf,
            jnp.asarray(False), jnp.asarray(False), jnp.asarray(False),
            zero, value0, slope0, zero, value0, slope0, zero, value0,
            zero, value0, grad0,
        )  # fmt: skip
        end = jax.lax.while_loop(lambda st: ~(st.done | st.failed), step, start)
        if verbose:
            jax.lax.cond(
                end.failed,
                lambda: jax.debug.print(
                    "scale_by_zoom_linesearch: no step size met the strong Wolfe "
                    "conditions (decrease error {d}, curvature error {c}); step size "
                    "{eta}.",
                    d=end.decrease_error,
                    c=end.curvature_error,
                    eta=end.stepsize,
                ),
                lambda: None,
            )
        eta = end.stepsize
        out = jax.tree.map(
            lambda u: (up(u) * eta.astype(up(u).real.dtype)).astype(u.dtype), updates
        )
        info = ZoomLinesearchInfo(end.count, end.decrease_error, end.curvature_error)
        return out, ScaleByZoomLinesearchState(eta, end.value, end.grad, info)

    return GradientTransformationExtraArgs(init, update)
