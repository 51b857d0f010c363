"""L-BFGS's building block: the two-loop recursion of Nocedal & Wright.

The update rule is written once, on :func:`gradtx.lbfgs`.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, up, zero_count
from gradtx.core import GradientTransformation, Params, Updates

__all__ = ["ScaleByLBFGSState", "scale_by_lbfgs"]

_NEEDS_PARAMS = (
    "L-BFGS builds its curvature pairs from the steps taken: call "
    "tx.update(grads, state, params)."
)


class ScaleByLBFGSState(NamedTuple):
    """State of :func:`scale_by_lbfgs` (optax's fields)."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    params: Any  # like params: the params of the last step
    updates: Any  # like params: the updates (gradients) of the last step
    diff_params_memory: Any  # like params, each leaf [memory_size, *shape]: s_i
    diff_updates_memory: Any  # like params, each leaf [memory_size, *shape]: y_i
    weights_memory: jax.Array  # [memory_size], real: rho_i = 1 / Re<y_i, s_i>


def real_dtype_of(tree: Any) -> Any:
    """The real dtype scalars about ``tree`` are computed in: float32 or wider.

    The widest real dtype of the leaves, at least float32 (bfloat16 leaves give
    float32; a float64 leaf float64), whatever ``jax_enable_x64`` says.
    """
    dtype = jnp.dtype(jnp.float32)
    for x in jax.tree.leaves(tree):
        d = jnp.result_type(x)
        if jnp.issubdtype(d, jnp.complexfloating):
            d = jnp.finfo(d).dtype
        dtype = jnp.promote_types(dtype, d)
    return dtype


def real_dot(xs: list[jax.Array], ys: list[jax.Array], dtype: Any) -> jax.Array:
    r""":math:`\mathrm{Re}\sum_i \langle x_i, y_i\rangle` over leaves, in ``dtype``.

    Each leaf's product is summed in float32 or wider.
    """
    parts = [
        jnp.real(
            jnp.tensordot(
                jnp.conj(up(x)), up(y), jnp.ndim(x), precision=jax.lax.Precision.HIGHEST
            )
        ).astype(dtype)
        for x, y in zip(xs, ys, strict=True)
    ]
    return functools.reduce(jnp.add, parts, jnp.zeros((), dtype))


def real_sq(xs: list[jax.Array], dtype: Any) -> jax.Array:
    r""":math:`\sum_i \lVert x_i\rVert^2` over leaves, in ``dtype`` (optax's order of
    operations: each leaf's squares summed, then the leaves)."""
    parts = [jnp.sum(numerics.abs_sq(up(x))).astype(dtype) for x in xs]
    return functools.reduce(jnp.add, parts, jnp.zeros((), dtype))


def scale_by_lbfgs(
    memory_size: int = 10, scale_init_precond: bool = True
) -> GradientTransformation:
    r"""Multiplies updates by L-BFGS's inverse-Hessian approximation :math:`H_k`.

    Produces :math:`H_k u_k` by the two-loop recursion (Nocedal & Wright,
    Algorithm 7.4) over the last ``memory_size`` pairs
    :math:`s_i = w_{i+1} - w_i`, :math:`y_i = u_{i+1} - u_i`, which it records
    from the params and updates it is given at each step; see
    :func:`gradtx.lbfgs` for the full rule and its reference. Chain it with a
    line search (or a negative learning rate): the output is the direction,
    not yet a descent step.

    Args:
      memory_size: :math:`m \ge 1`, the number of pairs kept.
      scale_init_precond: start the recursion from
        :math:`H_k^0 = \gamma_k I` with
        :math:`\gamma_k = \langle s, y\rangle / \langle y, y\rangle` of the
        newest pair (Nocedal & Wright eq. 7.20), and at the first step
        :math:`\gamma_0 = \min(1, 1/\lVert u_0\rVert)` (optax's heuristic);
        False: :math:`H_k^0 = I`.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByLBFGSState`; its ``update`` needs the params.

    Raises:
      ValueError: ``memory_size`` is not an int >= 1.
      TypeError: ``scale_init_precond`` is not a bool.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_lbfgs()
      >>> params = jnp.array([1.0, 2.0])
      >>> u, _ = tx.update(jnp.array([3.0, 4.0]), tx.init(params), params)
      >>> u  # the first direction is u / |u|
      Array([0.6, 0.8], dtype=float32)
    """
    fn = validate.who("scale_by_lbfgs")
    validate.integer(fn, "memory_size", memory_size, low=1, meaning="pairs kept")
    validate.boolean(fn, "scale_init_precond", scale_init_precond)
    m = int(memory_size)

    def init(params: Params) -> ScaleByLBFGSState:
        validate.params(fn, params)

        def memory() -> Any:  # a new buffer per field: the state is donated
            return jax.tree.map(
                lambda x: jnp.zeros((m, *jnp.shape(x)), x.dtype), params
            )

        return ScaleByLBFGSState(
            count=zero_count(),
            params=jax.tree.map(jnp.zeros_like, params),
            updates=jax.tree.map(jnp.zeros_like, params),
            diff_params_memory=memory(),
            diff_updates_memory=memory(),
            weights_memory=jnp.zeros((m,), real_dtype_of(params)),
        )

    def update(
        updates: Updates,
        state: ScaleByLBFGSState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByLBFGSState]:
        validate.updates(
            fn,
            updates,
            params,
            state.updates,
            name="scale_by_lbfgs state.updates",
            needs_params=_NEEDS_PARAMS,
        )
        dtype = state.weights_memory.dtype
        u, treedef = jax.tree.flatten(updates)
        w = treedef.flatten_up_to(params)  # type: ignore[attr-defined]
        started = state.count > 0
        # The newest pair, s = w_k - w_{k-1} and y = u_k - u_{k-1} (none at k = 0).
        s = [
            jnp.where(started, up(a) - up(b), 0)
            for a, b in zip(w, jax.tree.leaves(state.params), strict=True)
        ]
        y = [
            jnp.where(started, up(a) - up(b), 0)
            for a, b in zip(u, jax.tree.leaves(state.updates), strict=True)
        ]
        sy = real_dot(s, y, dtype)
        rho = jnp.where(started & (sy != 0), 1 / jnp.where(sy == 0, 1, sy), 0)
        newest = (state.count - 1) % m  # the slot of pair k - 1
        s_mem = [
            mem.at[newest].set(x.astype(mem.dtype))
            for mem, x in zip(jax.tree.leaves(state.diff_params_memory), s, strict=True)
        ]
        y_mem = [
            mem.at[newest].set(x.astype(mem.dtype))
            for mem, x in zip(
                jax.tree.leaves(state.diff_updates_memory), y, strict=True
            )
        ]
        rhos = state.weights_memory.at[newest].set(rho.astype(dtype))

        if scale_init_precond:
            yy = real_sq(y, dtype)
            gamma = jnp.where(yy > 0, sy / jnp.where(yy > 0, yy, 1), 1)
            norm = jnp.sqrt(real_sq(u, dtype))
            first = jnp.minimum(1, 1 / jax.lax.stop_gradient(norm))
            gamma = jnp.where(started, gamma, first)
        else:
            gamma = jnp.ones((), dtype)
        out = _two_loop([up(x) for x in u], s_mem, y_mem, rhos, gamma, state.count % m)
        new_state = ScaleByLBFGSState(
            count=safe_increment(state.count),
            params=params,
            updates=updates,
            diff_params_memory=jax.tree.unflatten(treedef, s_mem),
            diff_updates_memory=jax.tree.unflatten(treedef, y_mem),
            weights_memory=rhos,
        )
        out = [x.astype(a.dtype) for x, a in zip(out, u, strict=True)]
        return jax.tree.unflatten(treedef, out), new_state

    return GradientTransformation(init, update)


def _two_loop(
    q: list[jax.Array],
    s_mem: list[jax.Array],
    y_mem: list[jax.Array],
    rhos: jax.Array,
    gamma: jax.Array,
    oldest: jax.Array,
) -> list[jax.Array]:
    r""":math:`H q` by Nocedal & Wright's Algorithm 7.4 over the stored pairs.

    The slots hold the pairs oldest first from ``oldest`` on (cyclically);
    unused slots have :math:`\rho = 0` and change nothing.
    """
    m = rhos.shape[0]
    dtype = rhos.dtype

    def combine(
        x: list[jax.Array], c: jax.Array, z: list[jax.Array]
    ) -> list[jax.Array]:
        return [a + c.astype(a.real.dtype) * up(b) for a, b in zip(x, z, strict=True)]

    def newest_first(j: jax.Array, carry: Any) -> Any:
        q, alphas = carry
        i = (oldest + m - 1 - j) % m
        alpha = rhos[i] * real_dot([x[i] for x in s_mem], q, dtype)
        return combine(q, -alpha, [x[i] for x in y_mem]), alphas.at[i].set(alpha)

    q, alphas = jax.lax.fori_loop(0, m, newest_first, (q, jnp.zeros_like(rhos)))
    r = [gamma.astype(x.real.dtype) * x for x in q]

    def oldest_first(j: jax.Array, r: Any) -> Any:
        i = (oldest + j) % m
        beta = rhos[i] * real_dot([x[i] for x in y_mem], r, dtype)
        return combine(r, alphas[i] - beta, [x[i] for x in s_mem])

    return jax.lax.fori_loop(0, m, oldest_first, r)
