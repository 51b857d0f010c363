"""Logistic, focal and hinge losses and KL divergences vs optax, NumPy, torch."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as tf

import gradtx.losses as gl

SHAPES = [(5,), (3, 4), (2, 3, 4)]


def _close(a: object, b: object, tol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _logits_labels(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=shape) * 3).astype(np.float32)
    hard = rng.integers(0, 2, size=shape).astype(np.float32)
    soft = rng.random(size=shape).astype(np.float32)
    return logits, hard, soft


def _np_sigmoid_bce(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = x.astype(np.float64), y.astype(np.float64)
    return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))


def _np_focal(x: np.ndarray, y: np.ndarray, alpha, gamma: float) -> np.ndarray:
    p = 1 / (1 + np.exp(-x.astype(np.float64)))
    y = y.astype(np.float64)
    p_t = y * p + (1 - y) * (1 - p)
    loss = _np_sigmoid_bce(x, y) * (1 - p_t) ** gamma
    return loss if alpha is None else (alpha * y + (1 - alpha) * (1 - y)) * loss


@pytest.mark.parametrize("shape", SHAPES)
def test_sigmoid_losses_match_optax_numpy_torch(shape: tuple) -> None:
    logits, hard, soft = _logits_labels(shape)
    x = jnp.asarray(logits)
    for labels in (hard, soft):
        y = jnp.asarray(labels)
        ours = gl.sigmoid_binary_cross_entropy(x, y)
        assert ours.shape == shape and ours.dtype == jnp.float32
        _close(ours, optax.losses.sigmoid_binary_cross_entropy(x, y))
        _close(ours, _np_sigmoid_bce(logits, labels), 1e-5)
        want = tf.binary_cross_entropy_with_logits(
            torch.tensor(logits), torch.tensor(labels), reduction="none"
        )
        _close(ours, want.numpy(), 1e-5)
        for alpha, gamma in ((None, 2.0), (0.25, 2.0), (0.5, 0.5), (None, 0.0)):
            ours = gl.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma)
            want = optax.losses.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma)
            _close(ours, want)
            _close(ours, _np_focal(logits, labels, alpha, gamma), 1e-5)


def test_sigmoid_losses_at_saturated_logits() -> None:
    x = jnp.array([1e4, -1e4, 1e4, -1e4, 0.0], jnp.float32)
    y = jnp.array([1.0, 0.0, 0.0, 1.0, 1.0], jnp.float32)
    _close(gl.sigmoid_binary_cross_entropy(x, y), [0.0, 0.0, 1e4, 1e4, np.log(2)])
    grad = jax.grad(lambda v: gl.sigmoid_binary_cross_entropy(v, y).sum())(x)
    _close(grad, jax.nn.sigmoid(x) - y)
    focal = gl.sigmoid_focal_loss(x, y, alpha=0.25)
    focal_grad = jax.grad(lambda v: gl.sigmoid_focal_loss(v, y, gamma=1.5).sum())(x)
    assert bool(jnp.all(jnp.isfinite(focal))) and bool(
        jnp.all(jnp.isfinite(focal_grad))
    )
    _close(focal, [0.0, 0.0, 0.75e4, 0.25e4, 0.25 * 0.25 * np.log(2)], 1e-5)


def test_hinge_matches_optax_numpy_torch() -> None:
    rng = np.random.default_rng(1)
    f = (rng.normal(size=(8,)) * 2).astype(np.float32)
    t = rng.choice(np.array([-1.0, 1.0], np.float32), size=(8,))
    ours = gl.hinge_loss(jnp.asarray(f), jnp.asarray(t))
    _close(ours, optax.losses.hinge_loss(jnp.asarray(f), jnp.asarray(t)))
    _close(ours, np.maximum(0.0, 1.0 - f.astype(np.float64) * t))
    # torch: multi_margin_loss with the scores (0, f) and class (t + 1) / 2 is
    # max(0, 1 - f t) / 2.
    scores = torch.tensor(np.stack([np.zeros_like(f), f], -1))
    classes = torch.tensor((t > 0).astype(np.int64))
    want = 2 * tf.multi_margin_loss(scores, classes, reduction="none")
    _close(ours, want.numpy(), 1e-6)


@pytest.mark.parametrize("shape", SHAPES)
def test_kl_divergences_match_optax_numpy_torch(shape: tuple) -> None:
    rng = np.random.default_rng(2)
    log_p = np.log(rng.dirichlet(np.ones(shape[-1]), shape[:-1])).astype(np.float32)
    t = rng.dirichlet(np.ones(shape[-1]), shape[:-1]).astype(np.float32)
    t[..., 0] = 0.0  # 0 log 0 = 0
    lp, tt = jnp.asarray(log_p), jnp.asarray(t)
    ours = gl.kl_divergence(lp, tt)
    _close(ours, optax.losses.kl_divergence(lp, tt))
    t64, lp64 = t.astype(np.float64), log_p.astype(np.float64)
    safe_log = np.log(np.where(t64 > 0, t64, 1.0))
    _close(ours, (t64 * (safe_log - lp64)).sum(-1), 1e-5)
    want = tf.kl_div(torch.tensor(log_p), torch.tensor(t), reduction="none").sum(-1)
    _close(ours, want.numpy(), 1e-5)
    generalized = gl.generalized_kl_divergence(lp, tt)
    _close(generalized, optax.losses.generalized_kl_divergence(lp, tt))
    _close(generalized, (t64 * (safe_log - lp64) + np.exp(lp64) - t64).sum(-1), 1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _close(
            gl.convex_kl_divergence(lp, tt), optax.losses.convex_kl_divergence(lp, tt)
        )


def test_kl_axis_where_and_finite_target_gradient() -> None:
    rng = np.random.default_rng(3)
    lp = jnp.asarray(rng.normal(size=(3, 4, 5)), jnp.float32)
    t = jnp.asarray(rng.random(size=(3, 4, 5)), jnp.float32).at[0, 0, 0].set(0.0)
    where = jnp.asarray(rng.random(size=(3, 4, 5)) > 0.3)
    for kwargs in ({"axis": (1, 2)}, {"axis": None}, {"where": where}):
        _close(
            gl.kl_divergence(lp, t, **kwargs),
            optax.losses.kl_divergence(lp, t, **kwargs),
        )
    grad = jax.grad(lambda v: gl.kl_divergence(lp, v).sum())(t)
    assert bool(jnp.all(jnp.isfinite(grad)))


@pytest.mark.parametrize(
    "name, args, kwargs, kind, words",
    [
        (
            "sigmoid_binary_cross_entropy",
            (jnp.zeros((3,), jnp.int32), jnp.zeros((3,))),
            {},
            TypeError,
            "logits has dtype int32",
        ),
        (
            "sigmoid_binary_cross_entropy",
            (jnp.zeros((3,)), jnp.zeros((4,))),
            {},
            ValueError,
            "labels has shape (4,)",
        ),
        (
            "sigmoid_focal_loss",
            (jnp.zeros((3,)), jnp.zeros((3,))),
            {"gamma": -1.0},
            ValueError,
            "gamma must be",
        ),
        (
            "sigmoid_focal_loss",
            (jnp.zeros((3,)), jnp.zeros((3,))),
            {"alpha": 2.0},
            ValueError,
            "alpha must be",
        ),
        (
            "hinge_loss",
            (jnp.zeros((3,)), jnp.zeros((2,))),
            {},
            ValueError,
            "targets has shape (2,)",
        ),
        (
            "kl_divergence",
            (jnp.zeros((2, 3)), jnp.zeros((2, 3), jnp.int32)),
            {},
            TypeError,
            "targets has dtype int32",
        ),
        (
            "generalized_kl_divergence",
            (jnp.zeros((2, 3)), jnp.zeros((3, 2))),
            {},
            ValueError,
            "targets has shape (3, 2)",
        ),
    ],
)
def test_bad_inputs_name_function_and_argument(name, args, kwargs, kind, words) -> None:
    with pytest.raises(kind) as info:
        getattr(gl, name)(*args, **kwargs)
    assert str(info.value).startswith(f"{name}: ")
    assert words in str(info.value)


def test_public_names() -> None:
    assert sorted(gl.__all__) == gl.__all__
    for name in gl.__all__:
        fn = getattr(gl, name)
        assert callable(fn) and fn.__doc__ and "Example:" in fn.__doc__
        assert hasattr(optax.losses, name)
