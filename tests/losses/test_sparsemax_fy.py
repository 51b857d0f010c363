"""Sparsemax and Fenchel-Young losses vs optax, NumPy float64 and torch."""

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
from jax.scipy.special import logsumexp

from gradtx.losses._fenchel_young import make_fenchel_young_loss
from gradtx.losses._sparsemax import multiclass_sparsemax_loss, sparsemax_loss


def _close(a: object, b: object, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _np_simplex(z: np.ndarray) -> np.ndarray:
    """Projection onto the simplex by bisection on tau: sum max(z - tau, 0) = 1."""
    z = np.asarray(z, np.float64)
    lo, hi = z.max(-1, keepdims=True) - 1.0, z.max(-1, keepdims=True)
    for _ in range(200):
        tau = (lo + hi) / 2
        over = np.maximum(z - tau, 0).sum(-1, keepdims=True) > 1
        lo, hi = np.where(over, tau, lo), np.where(over, hi, tau)
    return np.maximum(z - (lo + hi) / 2, 0)


def _np_sparsemax_loss(z: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Martins & Astudillo eq. 18: -z_k + 1/2 sum_S (z_j^2 - tau^2) + 1/2."""
    z = np.asarray(z, np.float64)
    p = _np_simplex(z)
    support = p > 0
    tau = (z * support - p).sum(-1) / support.sum(-1)  # z_j - p_j on S
    z_k = np.take_along_axis(z, k[..., None], -1)[..., 0]
    squares = np.where(support, z**2 - tau[..., None] ** 2, 0).sum(-1)
    return -z_k + 0.5 * squares + 0.5


def test_multiclass_sparsemax_matches_optax_and_paper() -> None:
    rng = np.random.default_rng(0)
    scores = (rng.normal(size=(2, 3, 5)) * 1.5).astype(np.float32)
    labels = rng.integers(0, 5, size=(2, 3))
    ours = multiclass_sparsemax_loss(jnp.asarray(scores), jnp.asarray(labels))
    assert ours.shape == (2, 3) and ours.dtype == jnp.float32
    _close(ours, _np_sparsemax_loss(scores, labels))
    flat = (jnp.asarray(scores.reshape(6, 5)), jnp.asarray(labels.reshape(6)))
    _close(ours.reshape(6), jax.jit(optax.losses.multiclass_sparsemax_loss)(*flat))
    # Gradient: sparsemax(z) - onehot(k), exactly (custom JVP).
    grad = jax.jit(jax.grad(lambda z: multiclass_sparsemax_loss(z, flat[1]).sum()))(
        flat[0]
    )
    _close(grad, _np_simplex(scores.reshape(6, 5)) - np.eye(5)[labels.reshape(6)])
    # Large scores on the label: zero loss; large elsewhere: no precision loss.
    big = jnp.asarray([[0.0, 1e5, 0.0], [1e5, 0.0, 1e5 - 0.5]], jnp.float32)
    _close(multiclass_sparsemax_loss(big, jnp.asarray([1, 2])), [0.0, 0.5625])


def test_sparsemax_hessian_is_the_projection_jacobian() -> None:
    z = jnp.asarray([1.0, 0.8, -1.0, 0.5], jnp.float64)
    label = jnp.asarray(0)
    hess = jax.jit(jax.hessian(lambda v: multiclass_sparsemax_loss(v, label)))(z)
    support = _np_simplex(np.asarray(z)) > 0
    s = support.astype(np.float64)
    _close(hess, np.diag(s) - np.outer(s, s) / s.sum(), 1e-10)
    # float64 in, float64 out, against the paper's formula at 1e-12.
    _close(
        multiclass_sparsemax_loss(z, jnp.asarray(0)),
        _np_sparsemax_loss(np.asarray(z), np.asarray(0)),
        1e-12,
    )


def test_binary_sparsemax_matches_optax_and_fenchel_young() -> None:
    x = np.array([-3.0, -1.0, -0.4, 0.0, 0.3, 1.0, 2.5], np.float32)
    ours = sparsemax_loss(jnp.asarray(np.stack([x, x], -1)), jnp.asarray([[0, 1]]))
    for y in (0, 1):
        want = optax.losses.sparsemax_loss(jnp.asarray(x), jnp.full(x.shape, y))
        _close(ours[:, y], want, 1e-6)
    # Any label in [0, 1]: the Gini Fenchel-Young loss of the scores (x, 0)
    # and the target (y, 1 - y), conjugate and regularizer in NumPy.
    for soft in (0.0, 0.25, 0.5, 1.0):
        theta = np.stack([x, np.zeros_like(x)], -1).astype(np.float64)
        target = np.array([soft, 1 - soft])
        p = _np_simplex(theta)
        conjugate = (p * theta).sum(-1) - 0.5 * (p * p).sum(-1) + 0.5
        regularizer = 0.5 * (target**2).sum() - 0.5
        want = conjugate + regularizer - theta @ target
        ours = sparsemax_loss(jnp.asarray(x), jnp.full(x.shape, soft, jnp.float32))
        _close(ours, want)
        grad = jax.grad(lambda v, s=soft: sparsemax_loss(v, s).sum())(jnp.asarray(x))
        _close(grad, np.clip((x + 1) / 2, 0, 1) - soft)  # sparse_sigmoid(x) - y


def test_fenchel_young_logsumexp_is_cross_entropy() -> None:
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(2, 3, 4)).astype(np.float32)
    targets = rng.dirichlet(np.ones(4), size=(2, 3)).astype(np.float32)
    fy = make_fenchel_young_loss(logsumexp)
    ours = jax.jit(fy)(jnp.asarray(scores), jnp.asarray(targets))
    want = tf.cross_entropy(
        torch.tensor(scores.reshape(6, 4)),
        torch.tensor(targets.reshape(6, 4)),
        reduction="none",
    )
    _close(ours.reshape(6), want.numpy())
    theirs = jax.jit(optax.losses.make_fenchel_young_loss(logsumexp))
    _close(ours, theirs(jnp.asarray(scores), jnp.asarray(targets)))
    grad = jax.jit(jax.grad(lambda s: fy(s, jnp.asarray(targets)).sum()))(
        jnp.asarray(scores)
    )
    _close(grad, jax.nn.softmax(jnp.asarray(scores)) - targets)

    # Keyword arguments reach max_fun (optax drops them): a temperature.
    def smooth_max(s: jax.Array, temperature: float = 1.0) -> jax.Array:
        return temperature * logsumexp(s / temperature)

    cool = make_fenchel_young_loss(smooth_max)
    cooled = jax.jit(lambda s, t: cool(s, t, temperature=0.5))(
        jnp.asarray(scores), jnp.asarray(targets)
    )
    s64 = scores.astype(np.float64)
    m = s64.max(-1, keepdims=True)
    lse = 0.5 * np.log(np.exp((s64 - m) / 0.5).sum(-1)) + m[..., 0]
    _close(cooled, lse - (s64 * targets).sum(-1))


def test_bad_inputs_name_function_and_argument() -> None:
    z = jnp.zeros((2, 3))
    fy = make_fenchel_young_loss(logsumexp)
    cases: list[tuple[Callable[..., Any], tuple[Any, ...], type[Exception], str]] = [
        (multiclass_sparsemax_loss, (z, jnp.zeros(2)), TypeError, "labels has dtype"),
        (
            multiclass_sparsemax_loss,
            (z, jnp.asarray([0, 3])),
            ValueError,
            "labels must be class indices in [0, 3), got 3",
        ),
        (
            multiclass_sparsemax_loss,
            (z.astype(jnp.int32), jnp.asarray([0, 1])),
            TypeError,
            "scores has dtype int32",
        ),
        (
            multiclass_sparsemax_loss,
            (z, jnp.asarray([0, 1, 2])),
            ValueError,
            "labels has shape (3,)",
        ),
        (sparsemax_loss, (z, jnp.full((2, 3), 2)), ValueError, "labels must be in"),
        (sparsemax_loss, (z, jnp.zeros((4,))), ValueError, "labels has shape (4,)"),
        (make_fenchel_young_loss, (None,), TypeError, "max_fun must be"),
        (fy, (z, jnp.zeros((2, 4))), ValueError, "targets has shape (2, 4)"),
        (fy, (jnp.zeros(()), jnp.zeros(())), ValueError, "scores must have"),
    ]
    for fn, args, kind, words in cases:
        with pytest.raises(kind, match=rf"^{fn.__name__}: ") as info:
            fn(*args)
        assert words in str(info.value), str(info.value)
    # Under jit a label out of range cannot raise: its loss is NaN.
    jitted = jax.jit(multiclass_sparsemax_loss)(z, jnp.asarray([0, 3]))
    assert not bool(jnp.isnan(jitted[0])) and bool(jnp.isnan(jitted[1]))
