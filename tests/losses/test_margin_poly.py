"""Perceptron, multiclass hinge, PolyLoss, log-target KL vs optax, NumPy, torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as tf

from gradtx.losses import kl_divergence_with_log_targets
from gradtx.losses._margin import (
    multiclass_hinge_loss,
    multiclass_perceptron_loss,
    perceptron_loss,
)
from gradtx.losses._poly import poly_loss_cross_entropy


def _close(a: object, b: object, tol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.max(axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis, keepdims=True))


def test_perceptron_and_multiclass_margins_match_optax_and_numpy() -> None:
    rng = np.random.default_rng(0)
    f = rng.normal(size=(6,)) * 2
    t = rng.choice(np.array([-1.0, 1.0]), size=(6,))
    ours = perceptron_loss(jnp.asarray(f), jnp.asarray(t))
    _close(ours, optax.losses.perceptron_loss(f, t))
    _close(ours, np.maximum(0.0, -f * t))

    scores = rng.normal(size=(2, 3, 4))
    scores[0, 0] = [1.0, 3.0, 2.5, 0.0]  # the true class 1 leads by 0.5 < 1
    labels = rng.integers(0, 4, size=(2, 3))
    labels[0, 0] = 1
    true = np.take_along_axis(scores, labels[..., None], -1)[..., 0]
    others = np.where(np.eye(4, dtype=bool)[labels], -np.inf, scores).max(-1)
    hinge = multiclass_hinge_loss(scores, labels)
    _close(hinge, optax.losses.multiclass_hinge_loss(scores, labels))
    _close(hinge, np.maximum(0.0, 1.0 + others - true))  # Crammer & Singer
    _close(hinge[0, 0], 0.5)
    perceptron = multiclass_perceptron_loss(scores, labels)
    _close(perceptron, optax.losses.multiclass_perceptron_loss(scores, labels))
    _close(perceptron, scores.max(-1) - true)
    # Subgradient of the perceptron loss: e_argmax - e_label.
    grad = jax.grad(lambda s: multiclass_perceptron_loss(s, labels).sum())(scores)
    eye = np.eye(4)
    _close(grad, eye[scores.argmax(-1)] - eye[labels])


def test_multiclass_labels_out_of_range_raise_or_nan() -> None:
    scores = jnp.zeros((2, 3))
    for fn in (multiclass_hinge_loss, multiclass_perceptron_loss):
        with pytest.raises(
            ValueError, match=r"labels must be class indices in \[0, 3\)"
        ):
            fn(scores, jnp.array([0, 3]))
        out = jax.jit(fn)(scores, jnp.array([0, -1]))
        assert np.isfinite(float(out[0])) and np.isnan(float(out[1]))


def _np_poly(x: np.ndarray, y: np.ndarray, eps: float, axis: int = -1) -> np.ndarray:
    log_p = _np_log_softmax(x, axis)
    return -(y * log_p).sum(axis) + eps * (y * (1.0 - np.exp(log_p))).sum(axis)


def test_poly_loss_matches_optax_and_numpy() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 5)) * 3
    y = rng.dirichlet(np.ones(5), size=(3, 4))
    for eps in (2.0, -1.0, 0.0):
        ours = poly_loss_cross_entropy(x, y, epsilon=eps)
        _close(ours, optax.losses.poly_loss_cross_entropy(x, y, epsilon=eps))
        _close(ours, _np_poly(x, y, eps))
    y0 = np.moveaxis(rng.dirichlet(np.ones(3), size=(4, 5)), -1, 0)
    ours = poly_loss_cross_entropy(x, y0, axis=0)
    _close(ours, optax.losses.poly_loss_cross_entropy(x, y0, axis=0))
    _close(ours, _np_poly(x, y0, 2.0, axis=0))
    where = rng.random(size=(5,)) > 0.4
    ours = poly_loss_cross_entropy(x[0, 0], y[0, 0], where=jnp.asarray(where))
    _close(ours, _np_poly(x[0, 0, where], y[0, 0, where], 2.0))
    grad = jax.grad(lambda v: poly_loss_cross_entropy(v, y).sum())(x * 1e3)
    assert bool(jnp.all(jnp.isfinite(grad)))


def test_kl_with_log_targets_matches_optax_numpy_torch() -> None:
    rng = np.random.default_rng(2)
    log_p = np.log(rng.dirichlet(np.ones(6), size=(3, 4)))
    log_t = np.log(rng.dirichlet(np.ones(6), size=(3, 4)))
    ours = kl_divergence_with_log_targets(log_p, log_t)
    _close(ours, optax.losses.kl_divergence_with_log_targets(log_p, log_t))
    _close(ours, (np.exp(log_t) * (log_t - log_p)).sum(-1))
    want = tf.kl_div(
        torch.tensor(log_p), torch.tensor(log_t), reduction="none", log_target=True
    )
    _close(ours, want.sum(-1).numpy())
    for kwargs in ({"axis": 0}, {"axis": None}, {"where": log_t > -2.0}):
        _close(
            kl_divergence_with_log_targets(log_p, log_t, **kwargs),
            optax.losses.kl_divergence_with_log_targets(log_p, log_t, **kwargs),
        )
    # A zero target (log -inf) adds 0, with finite gradients (optax: NaN).
    log_t[0, 0, 0] = -np.inf
    t = np.exp(log_t[0, 0])
    ours = kl_divergence_with_log_targets(log_p[0, 0], log_t[0, 0])
    _close(ours, (t[1:] * (log_t[0, 0, 1:] - log_p[0, 0, 1:])).sum())
    grads = jax.grad(kl_divergence_with_log_targets, argnums=(0, 1))(
        jnp.asarray(log_p[0, 0]), jnp.asarray(log_t[0, 0])
    )
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)
    _close(grads[0], -t)


def test_bad_inputs_name_function_and_argument() -> None:
    x, i = jnp.zeros((2, 3)), jnp.zeros((2,), jnp.int32)
    cases: list[tuple[Callable, tuple, dict[str, Any], type[Exception], str]] = [
        (perceptron_loss, (i, i), {}, TypeError, "predictor_outputs has dtype"),
        (perceptron_loss, (x[0], i), {}, ValueError, "targets has shape"),
        (multiclass_hinge_loss, (x, i.astype(float)), {}, TypeError, "labels has"),
        (multiclass_hinge_loss, (x[0, 0], i[0]), {}, ValueError, "scores must"),
        (multiclass_perceptron_loss, (x, i[None]), {}, ValueError, "labels has"),
        (poly_loss_cross_entropy, (x, i), {}, TypeError, "labels has dtype"),
        (poly_loss_cross_entropy, (x, x), {"epsilon": np.nan}, ValueError, "epsilon"),
        (poly_loss_cross_entropy, (x, x), {"where": x}, TypeError, "where has dtype"),
        (kl_divergence_with_log_targets, (x, i), {}, TypeError, "log_targets has"),
        (kl_divergence_with_log_targets, (x, x.T), {}, ValueError, "log_targets has"),
    ]
    for fn, args, kwargs, kind, words in cases:
        with pytest.raises(kind, match=words) as info:
            fn(*args, **kwargs)
        assert str(info.value).startswith(f"{fn.__name__}: ")
