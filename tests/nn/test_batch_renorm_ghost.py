"""Batch Renormalization and ghost batches against NumPy written from the papers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import gradtx.nn
from gradtx.nn import functional as fn_

RNG = np.random.default_rng(2)
X = jnp.asarray(RNG.normal(1.0, 2.0, size=(8, 3, 4)), jnp.float32)
SCALE = jnp.asarray(RNG.uniform(0.5, 2.0, 4), jnp.float32)
BIAS = jnp.asarray(RNG.normal(size=4), jnp.float32)
# Running statistics chosen so that r and d clip for some features and not others.
MEAN = jnp.asarray([1.0, 2.5, -4.0, 1.2], jnp.float32)
VAR = jnp.asarray([4.0, 0.01, 4.0, 100.0], jnp.float32)
EPS, RHO = 1e-5, 0.9


def _numpy(
    x: jax.Array,
    ghost: int,
    limits: tuple[float, float] | None = None,
    scale: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ioffe & Szegedy 2015 per ghost batch (Hoffer et al. 2017), with Ioffe
    2017's (r, d) correction when ``limits`` = (r_max, d_max). Features last,
    float64. Returns y, new mean, new var and the r of each ghost batch."""
    xs = np.asarray(x, np.float64)
    g = np.asarray(SCALE if scale is None else scale, np.float64)
    b, mean, var = (np.asarray(a, np.float64) for a in (BIAS, MEAN, VAR))
    groups = xs.reshape(-1, ghost, *xs.shape[1:])
    ys, mus, vs, rs = [], [], [], []
    for grp in groups:
        red = tuple(range(grp.ndim - 1))
        mu, v = grp.mean(axis=red), grp.var(axis=red)
        sigma_b = np.sqrt(v + EPS)
        xhat = (grp - mu) / sigma_b
        r = np.ones_like(mu)
        if limits is not None:
            r_max, d_max = limits
            sigma = np.sqrt(var + EPS)
            r = np.clip(sigma_b / sigma, 1 / r_max, r_max)
            d = np.clip((mu - mean) / sigma, -d_max, d_max)
            xhat = xhat * r + d
        ys.append(g * xhat + b)
        mus.append(mu)
        vs.append(v)
        rs.append(r)
    new_mean = RHO * mean + (1 - RHO) * np.mean(mus, axis=0)
    new_var = RHO * var + (1 - RHO) * np.mean(vs, axis=0)
    return np.concatenate(ys).reshape(xs.shape), new_mean, new_var, np.array(rs)


def _ours(x: jax.Array, **kwargs: object) -> tuple[jax.Array, jax.Array, jax.Array]:
    norm = fn_.batch_renorm if "r_max" in kwargs else fn_.batch_norm
    return norm(  # type: ignore[operator]
        x, SCALE, BIAS, MEAN, VAR, epsilon=EPS, momentum=RHO, training=True, **kwargs
    )


@pytest.mark.parametrize("ghost", [2, 4])
def test_ghost_batches_match_numpy(ghost: int) -> None:
    y, m, v = _ours(X, ghost_batch_size=ghost)
    ref_y, ref_m, ref_v, _ = _numpy(X, ghost)
    np.testing.assert_allclose(y, ref_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m, ref_m, rtol=1e-5)
    np.testing.assert_allclose(v, ref_v, rtol=1e-5)


def test_ghost_size_equal_to_batch_is_plain_batch_norm() -> None:
    for a, b in zip(_ours(X, ghost_batch_size=8), _ours(X), strict=True):
        np.testing.assert_array_equal(a, b)
    # Evaluation ignores ghost batches, whatever the batch size.
    y, _, _ = fn_.batch_norm(
        X[:3], SCALE, BIAS, MEAN, VAR, training=False, ghost_batch_size=2
    )
    np.testing.assert_array_equal(
        y, fn_.batch_norm(X[:3], SCALE, BIAS, MEAN, VAR, training=False)[0]
    )


@pytest.mark.parametrize("ghost", [8, 4])
def test_renorm_matches_numpy_with_clipping(ghost: int) -> None:
    y, m, v = _ours(X, r_max=1.5, d_max=1.0, ghost_batch_size=ghost)
    ref_y, ref_m, ref_v, r = _numpy(X, ghost, (1.5, 1.0))
    assert np.any(r == 1.5) and np.any(r == 1 / 1.5) and np.any((r > 0.7) & (r < 1.4))
    np.testing.assert_allclose(y, ref_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m, ref_m, rtol=1e-5)
    np.testing.assert_allclose(v, ref_v, rtol=1e-5)


def test_renorm_with_r_max_1_d_max_0_is_plain_batch_norm() -> None:
    for a, b in zip(_ours(X, r_max=1.0, d_max=0.0), _ours(X), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-7)

    def loss(norm: str) -> jax.Array:
        kw = {"r_max": 1.0, "d_max": 0.0} if norm == "re" else {}
        return jax.grad(lambda x, s: jnp.sum(jnp.sin(_ours_s(x, s, **kw))), (0, 1))(
            X, SCALE
        )

    for a, b in zip(loss("re"), loss("plain"), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def _ours_s(x: jax.Array, scale: jax.Array, **kw: object) -> jax.Array:
    norm = fn_.batch_renorm if kw else fn_.batch_norm
    return norm(  # type: ignore[operator]
        x, scale, BIAS, MEAN, VAR, epsilon=EPS, momentum=RHO, training=True, **kw
    )[0]


def test_renorm_gradient_treats_r_and_d_as_constants() -> None:
    # With r, d constant, y = (r * gamma) * xhat + (d * gamma + beta): the input
    # gradient is plain batch norm's with scale r * gamma (Ioffe 2017, Alg. 1).
    _, _, _, r = _numpy(X, 8, (1.5, 1.0))
    weights = jnp.asarray(RNG.normal(size=X.shape), jnp.float32)

    def renorm_loss(x: jax.Array) -> jax.Array:
        return jnp.sum(weights * _ours_s(x, SCALE, r_max=1.5, d_max=1.0))

    def plain_loss(x: jax.Array) -> jax.Array:
        scaled = SCALE * jnp.asarray(r[0], jnp.float32)
        return jnp.sum(weights * _ours_s(x, scaled))

    np.testing.assert_allclose(
        jax.grad(renorm_loss)(X), jax.grad(plain_loss)(X), rtol=1e-5, atol=1e-6
    )


def test_unclipped_renorm_output_equals_inference_output() -> None:
    # The paper's point: without clipping, training normalizes exactly as
    # inference does, with the running statistics.
    y, _, _ = _ours(X, r_max=1e6, d_max=1e6)
    infer, _, _ = fn_.batch_norm(X, SCALE, BIAS, MEAN, VAR, epsilon=EPS, training=False)
    np.testing.assert_allclose(y, infer, rtol=1e-4, atol=1e-4)


def test_module_renorm_follows_its_warmup_schedule() -> None:
    r_sched, d_sched = gradtx.nn.renorm_warmup(
        1.5, 1.0, hold_steps=2, r_max_steps=4, d_max_steps=3
    )
    layer = gradtx.nn.BatchNorm(
        4, momentum=RHO, renorm=True, r_max=r_sched, d_max=d_sched, rngs=nnx.Rngs(0)
    )
    plain = gradtx.nn.BatchNorm(4, momentum=RHO, rngs=nnx.Rngs(0))
    # Held steps: plain batch norm (outputs and statistics).
    for _ in range(2):
        np.testing.assert_allclose(layer(X), plain(X), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer.var[...], plain.var[...], rtol=1e-6)
    assert int(layer.renorm_steps[...]) == 2
    layer.eval()
    layer(X)
    assert int(layer.renorm_steps[...]) == 2  # evaluation does not count
    layer.train()
    mean, var = layer.mean[...], layer.var[...]
    for step in (2, 3, 4):  # r_max 1 -> 1.25 -> 1.5, d_max 0 -> 1
        expected = fn_.batch_renorm(
            X,
            layer.scale[...],
            layer.bias[...],
            mean,
            var,
            r_max=float(r_sched(step)),
            d_max=float(d_sched(step)),
            momentum=RHO,
            training=True,
        )
        np.testing.assert_allclose(layer(X), expected[0], rtol=1e-6, atol=1e-6)
        mean, var = expected[1], expected[2]
    assert [float(r_sched(s)) for s in (2, 3, 4)] == [1.0, 1.25, 1.5]


def test_module_ghost_batches_and_renorm_under_jit() -> None:
    layer = gradtx.nn.BatchNorm(
        4,
        momentum=RHO,
        epsilon=EPS,
        ghost_batch_size=4,
        renorm=True,
        r_max=1.5,
        d_max=1.0,
        rngs=nnx.Rngs(0),
    )
    layer.scale[...], layer.bias[...] = SCALE, BIAS
    layer.mean[...], layer.var[...] = MEAN, VAR
    y = nnx.jit(lambda m, x: m(x))(layer, X)
    ref_y, ref_m, ref_v, _ = _numpy(X, 4, (1.5, 1.0))
    np.testing.assert_allclose(y, ref_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.mean[...], ref_m, rtol=1e-5)
    np.testing.assert_allclose(layer.var[...], ref_v, rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ghost_batch_size": 3}, "does not divide the batch of 8"),
        ({"ghost_batch_size": 2, "axis": 0}, "feature axis"),
        ({"r_max": 0.9, "d_max": 1.0}, "r_max"),
        ({"r_max": 2.0, "d_max": -0.5}, "d_max"),
        ({"axis": 3}, "out of range"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    x = X[:, :, 0] if kwargs.get("axis") == 0 else X
    norm = fn_.batch_renorm if "r_max" in kwargs else fn_.batch_norm
    with pytest.raises(ValueError, match=match):
        norm(x, None, None, jnp.zeros(x.shape[kwargs.get("axis", -1) % x.ndim]),
             jnp.ones(x.shape[kwargs.get("axis", -1) % x.ndim]), training=True,
             **kwargs)  # fmt: skip


@pytest.mark.parametrize(
    ("r_max", "d_max", "error", "match"),
    [
        (lambda s: jnp.full(4, 2.0), 1.0, ValueError, r"r_max: the schedule .*\(4,\)"),
        (lambda s: 0.5, 1.0, ValueError, r"r_max \(the schedule's value at step 0\)"),
        (2.0, lambda s: -1.0, ValueError, r"d_max \(the schedule's value"),
        (2.0, lambda s: 1j, TypeError, "d_max: the schedule"),
    ],
)
def test_module_checks_what_its_limit_schedules_return(
    r_max: object, d_max: object, error: type, match: str
) -> None:
    # Before: an array became per-feature limits, r_max < 1 was used as is.
    layer = gradtx.nn.BatchNorm(
        4, renorm=True, r_max=r_max, d_max=d_max, rngs=nnx.Rngs(0)
    )
    with pytest.raises(error, match=match):
        layer(X)
