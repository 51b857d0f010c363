"""NT-Xent and the triplet margin loss vs optax, NumPy and torch."""

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

from gradtx.losses._self_supervised import ntxent, triplet_margin_loss


def _close(a: object, b: object, tol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _np_ntxent(z: np.ndarray, labels: np.ndarray, tau: float) -> float:
    """The mean over positive pairs (i, j) of -log e^s_ij / (e^s_ij + negatives)."""
    norms = np.sqrt(np.maximum((z * z).sum(1), np.finfo(z.dtype).eps))
    s = (z @ z.T) / np.outer(norms, norms) / tau
    terms = []
    for i in range(len(z)):
        negatives = np.exp(s[i, labels != labels[i]]).sum()
        for j in range(len(z)):
            if j != i and labels[j] == labels[i]:
                terms.append(-np.log(np.exp(s[i, j]) / (np.exp(s[i, j]) + negatives)))
    return float(np.mean(terms))


def test_ntxent_matches_optax_and_numpy() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 3))
    z[5] = 0.0  # a zero embedding: similarity 0 to all
    pairs = np.array([0, 1, 2, 0, 1, 2])  # SimCLR: two views of each
    groups = np.array([0, 0, 0, 1, 1, 2])  # a group of 3, a singleton
    for labels, tau in ((pairs, 0.07), (groups, 0.5)):
        ours = ntxent(jnp.asarray(z), jnp.asarray(labels), tau)
        assert ours.shape == ()
        _close(ours, optax.losses.ntxent(jnp.asarray(z), jnp.asarray(labels), tau))
        _close(ours, _np_ntxent(z, labels, tau))


def test_ntxent_jit_grad_and_degenerate_batches() -> None:
    rng = np.random.default_rng(1)
    z = jnp.asarray(rng.normal(size=(4, 3)), jnp.float32)
    fn = jax.jit(jax.value_and_grad(ntxent), static_argnums=2)
    for labels in ([0, 0, 1, 1], [0, 0, 0, 0], [0, 1, 2, 3]):
        value, grad = fn(z, jnp.array(labels), 0.01)
        assert value.dtype == jnp.float32
        assert bool(jnp.all(jnp.isfinite(grad))) and np.isfinite(float(value))
    # All one label: no negatives, every term -log 1 = 0.
    _close(fn(z, jnp.array([0, 0, 0, 0]), 0.01)[0], 0.0)
    # No positive pair: nothing to average, 0 (optax: NaN).
    _close(fn(z, jnp.array([0, 1, 2, 3]), 0.01)[0], 0.0)


def _np_triplet(
    a: np.ndarray,
    p: np.ndarray,
    n: np.ndarray,
    q: float,
    margin: float,
    eps: float,
    axis: int = -1,
) -> np.ndarray:
    def distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return ((np.abs(x - y) ** q).sum(axis) + eps) ** (1 / q)

    return np.maximum(distance(a, p) - distance(a, n) + margin, 0.0)


def test_triplet_matches_torch_optax_and_numpy() -> None:
    rng = np.random.default_rng(2)
    a, p, n = (rng.normal(size=(5, 4)) for _ in range(3))
    for q in (1, 2, 3):
        # eps=0: both are the exact q-norm (torch adds eps to differences).
        ours = triplet_margin_loss(a, p, n, norm_degree=q, margin=0.5, eps=0.0)
        want = tf.triplet_margin_loss(
            torch.tensor(a),
            torch.tensor(p),
            torch.tensor(n),
            margin=0.5,
            p=q,
            eps=0.0,
            reduction="none",
        )
        _close(ours, want.numpy())
        _close(ours, _np_triplet(a, p, n, q, 0.5, 0.0))
    ours = triplet_margin_loss(a, p, n)
    _close(ours, optax.losses.triplet_margin_loss(a, p, n))
    _close(ours, _np_triplet(a, p, n, 2, 1.0, 1e-6))
    ours = triplet_margin_loss(a, p, n, axis=0, norm_degree=1.5, margin=2.0)
    _close(ours, _np_triplet(a, p, n, 1.5, 2.0, 1e-6, axis=0))
    # Coinciding anchor and positive: eps keeps the gradient finite.
    grads = jax.grad(lambda x, y: triplet_margin_loss(x, y, n).sum(), (0, 1))(a, a)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)


@pytest.mark.parametrize(
    "fn, args, kwargs, kind, words",
    [
        (ntxent, (jnp.zeros((4,)), jnp.zeros((4,))), {}, ValueError, "embeddings must"),
        (ntxent, (jnp.zeros((4, 2), int), jnp.zeros(4)), {}, TypeError, "embeddings"),
        (ntxent, (jnp.zeros((4, 2)), jnp.zeros(3)), {}, ValueError, "labels must"),
        (
            ntxent,
            (jnp.ones((4, 2)), jnp.zeros(4)),
            {"temperature": 0.0},
            ValueError,
            "temperature must",
        ),
        (
            triplet_margin_loss,
            (jnp.ones((2, 3)),) * 2 + (jnp.ones((2, 4)),),
            {},
            ValueError,
            "negatives has shape",
        ),
        (
            triplet_margin_loss,
            (jnp.ones((2, 3)),) * 3,
            {"axis": 2},
            ValueError,
            "axis=2",
        ),
        (
            triplet_margin_loss,
            (jnp.ones((2, 3)),) * 3,
            {"norm_degree": 0},
            ValueError,
            "norm_degree must",
        ),
        (
            triplet_margin_loss,
            (jnp.ones((2, 3)),) * 3,
            {"eps": -1.0},
            ValueError,
            "eps must",
        ),
    ],
)
def test_bad_inputs_name_function_and_argument(
    fn: Callable, args: tuple, kwargs: dict[str, Any], kind: type[Exception], words: str
) -> None:
    with pytest.raises(kind, match=words) as info:
        fn(*args, **kwargs)
    assert str(info.value).startswith(f"{fn.__name__}: ")
