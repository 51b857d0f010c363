"""Microbatching vs the full-batch computation (closed forms, jax.grad) and optax."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gradtx import microbatching as mb

K = mb.AccumulationType
OK = optax.microbatching.AccumulationType


def _close(a: Any, b: Any, tol: float = 1e-6) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def _batch(rows: int = 12, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"a": rng.normal(size=(rows, 3)), "b": rng.normal(size=(rows,))}


def _row_fn(batch: dict[str, Any]) -> Any:
    """A per-row function: row r of the output depends on row r of the batch."""
    return jnp.tanh(batch["a"]) * batch["b"][:, None]


def test_microbatch_equals_full_batch_closed_forms() -> None:
    size = 3  # 4 microbatches of 3 rows
    batch = _batch()
    rows = np.tanh(batch["a"]) * batch["b"][:, None]  # float64 reference
    x = jax.tree.map(jnp.asarray, batch)

    def fun(b: dict[str, Any]) -> Any:
        r = _row_fn(b)
        return {"sum": r.sum(0), "mean": r.mean(0), "rows": r, "run": r.mean()}

    acc = {"sum": K.SUM, "mean": K.MEAN, "rows": K.CONCAT, "run": K.RUNNING_MEAN}
    out = jax.jit(mb.microbatch(fun, 0, size, acc))(x)
    _close(out["sum"], rows.sum(0))
    _close(out["mean"], rows.mean(0))  # equal sizes: the mean of the means
    _close(out["rows"], rows)  # CONCAT restores the batch's order
    _close(out["run"], rows.mean())
    assert out["rows"].dtype == jnp.float64
    # Gradients flow through the loop (a scan: the bound is static).
    loss = mb.microbatch(lambda b: jnp.sum(_row_fn(b) ** 2), 0, size)
    grads = jax.jit(jax.grad(loss))(x)
    want = jax.grad(lambda b: jnp.sum(_row_fn(b) ** 2))(x)
    _close(grads, want, 1e-10)


def test_reshape_batch_axis_is_column_major_like_optax() -> None:
    x = np.arange(2 * 12 * 2).reshape(2, 12, 2)
    ours = mb.reshape_batch_axis({"x": jnp.asarray(x)}, 3, axis=1)["x"]
    assert ours.shape == (2, 4, 3, 2)
    np.testing.assert_array_equal(ours, x.reshape(2, 4, 3, 2, order="F"))
    # Microbatch a holds rows a, a + n, a + 2n (n = 4 microbatches).
    np.testing.assert_array_equal(ours[0, 1, :, 0], x[0, [1, 5, 9], 0])
    theirs = optax.microbatching.reshape_batch_axis(jnp.asarray(x), 3, axis=1)
    np.testing.assert_array_equal(ours, theirs)
    neg = mb.reshape_batch_axis(jnp.asarray(x), 3, axis=-2)
    np.testing.assert_array_equal(neg, ours)


def test_microbatch_matches_optax() -> None:
    rng = np.random.default_rng(1)
    a, b = jnp.asarray(rng.normal(size=(8, 3))), jnp.asarray(rng.normal(size=(3, 8)))

    def fun(w: Any, a: Any, *, b: Any) -> Any:
        prod = a * b.T * w
        return {"s": prod.sum(0), "m": (prod.mean(), prod.max()), "c": prod}

    def acc(k: Any) -> Any:
        return {"s": k.SUM, "m": (k.MEAN, k.RUNNING_MEAN), "c": k.CONCAT}

    for steps in (None, 3):
        kw: dict[str, Any] = {
            "argnames": "b",
            "in_axes": (0, 1),
            "num_real_microbatches": steps,
        }
        ours = jax.jit(mb.microbatch(fun, 1, 2, acc(K), **kw))(2.0, a, b=b)
        theirs = jax.jit(optax.microbatch(fun, 1, 2, acc(OK), **kw))(2.0, a, b=b)
        _close(ours, theirs)
    # A function that mixes rows shows the split (column-major, as optax's).
    x = jnp.arange(6.0)
    dot = jax.jit(mb.microbatch(lambda v: v[:-1] @ v[1:], 0, 3))(x)
    assert float(dot) == 0 * 2 + 2 * 4 + 1 * 3 + 3 * 5


def test_micro_vmap_matches_vmap_and_optax() -> None:
    x = jnp.arange(2.0 * 8 * 3).reshape(2, 8, 3)
    y = jnp.linspace(0.0, 1.0, 8)

    def fun(v: Any, w: Any, *, scale: Any) -> Any:
        return {"n": jnp.sum(v**2) * w, "v": v * scale}

    full = jax.vmap(fun, in_axes=(1, None))(x, 3.0, scale=y)
    reduce: dict[str, Callable[[np.ndarray], Any]] = {
        "CONCAT": lambda t: t,
        "SUM": lambda t: t.sum(0),
        "MEAN": np.mean,
    }
    for n_kind, v_kind in (("SUM", "CONCAT"), ("MEAN", "SUM")):
        acc = {"n": getattr(K, n_kind), "v": getattr(K, v_kind)}
        ours = mb.micro_vmap(fun, (1, None), microbatch_size=2, accumulator=acc)
        got = jax.jit(ours)(x, 3.0, scale=y)
        theirs = optax.microbatching.micro_vmap(
            fun,
            (1, None),
            microbatch_size=2,
            accumulator={"n": getattr(OK, n_kind), "v": getattr(OK, v_kind)},
        )
        theirs = jax.jit(theirs)(x, 3.0, scale=y)
        _close(got, theirs)
        _close(got["n"], reduce[n_kind](np.asarray(full["n"])))
        _close(got["v"], reduce[v_kind](np.asarray(full["v"])))
    # An int in_axes maps every positional argument, as jax.vmap does.
    both = jax.jit(mb.micro_vmap(lambda u, v: u @ v, 0, microbatch_size=2))(x[0], x[1])
    _close(both, jax.vmap(lambda u, v: u @ v)(x[0], x[1]))


def _loss(params: Any, features: Any, targets: Any) -> Any:
    pred = jnp.tanh(features @ params["w"]) + params["b"]
    return 0.5 * jnp.mean((pred - targets) ** 2)


def test_micro_grad_mean_is_jax_grad_of_the_mean_loss() -> None:
    rng = np.random.default_rng(2)
    w, f, t = rng.normal(size=3), rng.normal(size=(8, 3)), rng.normal(size=8)
    params = {"w": jnp.asarray(w), "b": jnp.asarray(0.3)}
    feats, targs = jnp.asarray(f), jnp.asarray(t)
    want = jax.grad(_loss)(params, feats, targs)
    grad_fn = mb.micro_grad(
        _loss,
        batch_argnums=(1, 2),
        microbatch_size=4,
        accumulator=K.MEAN,
        metrics_fn=lambda g: optax.tree.norm(g),
    )
    grads, aux = jax.jit(grad_fn)(params, feats, targs)
    _close(grads, want, 1e-12)
    # Per-example closed forms: r = pred - t, dw = r (1 - tanh^2) f, db = r.
    pred = np.tanh(f @ w)
    r = pred + 0.3 - t
    dw = (r * (1 - pred**2))[:, None] * f
    _close(aux.metrics, np.sqrt((dw**2).sum(1) + r**2), 1e-12)
    _close(aux.values, 0.5 * r**2, 1e-12)
    assert aux.aux is None
    total, aux = mb.micro_grad(
        _loss, batch_argnums=(1, 2), keep_batch_dim=False, microbatch_size=2
    )(params, feats, targs)
    _close(total, jax.tree.map(lambda g: 8 * g, want), 1e-12)  # SUM: B times
    assert aux.metrics is None


def test_micro_grad_matches_optax_with_aux_and_transform() -> None:
    rng = np.random.default_rng(3)
    params = {"w": jnp.asarray(rng.normal(size=(3,))), "b": jnp.asarray(0.3)}
    feats, targs = jnp.asarray(rng.normal(size=(6, 3))), jnp.asarray(rng.normal(size=6))

    def loss(p: Any, f: Any, t: Any) -> Any:
        value = _loss(p, f, t)
        return value, {"twice": 2 * value}

    def clip(g: Any) -> Any:  # DP-SGD's per-example clipping, and the squares
        scale = jnp.minimum(1.0, 0.5 / optax.tree.norm(g))
        return jax.tree.map(lambda x: x * scale, g), jax.tree.map(jnp.square, g)

    kw: dict[str, Any] = {
        "has_aux": True,
        "batch_argnums": (1, 2),
        "microbatch_size": 3,
        "transform_fn": clip,
        "num_real_microbatches": 1,
    }
    ours = mb.micro_grad(loss, accumulator=(K.SUM, K.MEAN), **kw)
    theirs = optax.microbatching.micro_grad(loss, accumulator=(OK.SUM, OK.MEAN), **kw)
    ours, theirs = (jax.jit(g)(params, feats, targs) for g in (ours, theirs))
    _close(ours[0], theirs[0], 1e-12)
    _close(ours[1].values, theirs[1].values, 1e-12)
    _close(ours[1].aux, theirs[1].aux, 1e-12)


def test_traced_num_real_microbatches_runs_the_first_microbatches() -> None:
    x = jnp.arange(1.0, 13.0)  # 4 microbatches of 3: rows a, a + 4, a + 8

    @jax.jit
    def run(steps: Any) -> Any:
        kinds = (K.RUNNING_MEAN, K.CONCAT, K.SUM)

        def fun(v: Any) -> Any:
            return v.sum(), v, v.sum()

        return mb.microbatch(fun, 0, 3, kinds, num_real_microbatches=steps)(x)

    for steps in (2, 4, 9):  # 9 is clipped to the 4 microbatches
        run_mean, rows, total = run(steps)
        k = min(steps, 4)
        kept = np.isin(np.arange(12) % 4, np.arange(k))
        want_rows = np.where(kept, np.arange(1.0, 13.0), 0.0)
        _close(rows, want_rows)
        _close(total, want_rows.sum())
        _close(run_mean, want_rows.sum() / k)


def test_half_precision_keeps_its_dtype_and_sums_in_float32() -> None:
    x = jnp.full((256,), 0.1, jnp.bfloat16)
    out = jax.jit(mb.microbatch(jnp.sum, 0, 1))(x)  # 256 one-row microbatches
    assert out.dtype == jnp.bfloat16
    want = jnp.asarray(np.float32(np.float32(jnp.bfloat16(0.1)) * 256), jnp.bfloat16)
    assert float(out) == float(want)  # one rounding at the end
    mean = jax.jit(mb.microbatch(jnp.mean, 0, 4, K.RUNNING_MEAN))(x.astype(jnp.float16))
    assert mean.dtype == jnp.float16
    _close(mean, np.float16(0.1), 1e-3)


def test_custom_accumulator_and_its_aggregate() -> None:
    maximum = mb.Accumulator(
        init=lambda s: jnp.full(s.shape, -jnp.inf, s.dtype),
        update=lambda c, y, i: jnp.maximum(c, y),
        finalize=lambda c: c,
        aggregate=lambda ys: jnp.max(ys, axis=0),
    )
    x = np.random.default_rng(4).normal(size=(8, 2))
    _close(mb.microbatch(lambda v: v.max(0), 0, 2, maximum)(jnp.asarray(x)), x.max(0))
    _close(
        mb.micro_vmap(lambda v: v, microbatch_size=4, accumulator=maximum)(x), x.max(0)
    )


def _fun(*args: Any, **kwargs: Any) -> Any:
    return sum(jnp.sum(a) for a in (*args, *kwargs.values()))


X, Y = jnp.ones((6, 2)), jnp.ones((4, 2))
ERRORS: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (
        lambda: mb.microbatch(_fun, 0, 4)(X),
        ValueError,
        "divisible by microbatch_size=4",
    ),
    (
        lambda: mb.microbatch(_fun, (0, 1), 2)(X, {"w": Y}),
        ValueError,
        r"equal batch sizes.*args\[0\]: 6, args\[1\]\['w'\]: 4",
    ),
    (lambda: mb.microbatch(_fun, 0, 0), ValueError, "microbatch_size is 0"),
    (lambda: mb.microbatch(_fun, 2, 2)(X), ValueError, r"argnums=\(2,\)"),
    (
        lambda: mb.microbatch(_fun, 0, 2, K.MEAN)(X > 0),
        TypeError,
        "accumulator is.*MEAN",
    ),
    (lambda: mb.microbatch(_fun, 0, 2, "sum"), ValueError, "accumulator is 'sum'"),
    (lambda: mb.microbatch(_fun, 0, 2, (K.SUM,))(X), ValueError, "not a pytree prefix"),
    (lambda: mb.microbatch(_fun, 0, 2, in_axes=2)(X), ValueError, "in_axes=2"),
    (lambda: mb.microbatch(_fun, 0, 2, K.CONCAT)(X), ValueError, "CONCAT.*scalar"),
    (
        lambda: mb.micro_vmap(_fun, (0, None), microbatch_size=2)(X),
        ValueError,
        r"micro_vmap: in_axes=\(0, None\)",
    ),
    (
        lambda: mb.micro_grad(_fun, batch_argnums=2)(1.0, X),
        ValueError,
        "micro_grad: batch_argnums=2",
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), ERRORS)
def test_errors_name_the_argument(
    call: Callable[[], Any], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        call()
