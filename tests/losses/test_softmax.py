"""Softmax cross entropies and label smoothing vs optax, NumPy and torch."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as tf

import gradtx.losses as gl

SHAPES = [(4,), (3, 5), (2, 3, 4)]


def _close(a: object, b: object, tol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _data(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits, and integer labels of the batch shape (classes last)."""
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=shape) * 3).astype(np.float32)
    labels = rng.integers(0, shape[-1], size=shape[:-1]).astype(np.int32)
    return logits, labels


def _one_hot(labels: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[labels]


def _np_ce(logits: np.ndarray, probs: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    m = x.max(-1, keepdims=True)
    log_probs = x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))
    return -(probs.astype(np.float64) * log_probs).sum(-1)


@pytest.mark.parametrize("shape", SHAPES)
def test_cross_entropies_match_optax_and_numpy(shape: tuple) -> None:
    logits, labels = _data(shape)
    one_hot = _one_hot(labels, shape[-1])
    soft = np.random.default_rng(1).dirichlet(np.ones(shape[-1]), shape[:-1])
    soft = soft.astype(np.float32)
    x = jnp.asarray(logits)
    for probs in (one_hot, soft):
        ours = gl.softmax_cross_entropy(x, jnp.asarray(probs))
        _close(ours, optax.losses.softmax_cross_entropy(x, jnp.asarray(probs)))
        _close(ours, _np_ce(logits, probs), 1e-5)
        safe = gl.safe_softmax_cross_entropy(x, jnp.asarray(probs))
        _close(safe, optax.losses.safe_softmax_cross_entropy(x, jnp.asarray(probs)))
        _close(safe, _np_ce(logits, probs), 1e-5)
    ours = gl.softmax_cross_entropy_with_integer_labels(x, jnp.asarray(labels))
    assert ours.shape == shape[:-1] and ours.dtype == jnp.float32
    want = optax.losses.softmax_cross_entropy_with_integer_labels(
        x, jnp.asarray(labels)
    )
    _close(ours, want)
    _close(ours, _np_ce(logits, one_hot), 1e-5)


def test_integer_labels_axis_and_where_match_optax() -> None:
    logits, _ = _data((2, 3, 4, 5), 2)
    rng = np.random.default_rng(2)
    x = jnp.asarray(logits)
    labels = jnp.asarray(rng.integers(0, 3, size=(2, 4, 5)), jnp.int32)
    optax_int = optax.losses.softmax_cross_entropy_with_integer_labels
    _close(
        gl.softmax_cross_entropy_with_integer_labels(x, labels, axis=1),
        optax_int(x, labels, axis=1),
    )
    flat = jnp.asarray(rng.integers(0, 12, size=(2, 5)), jnp.int32)
    _close(
        gl.softmax_cross_entropy_with_integer_labels(x, flat, axis=(1, 2)),
        optax_int(x, flat, axis=(1, 2)),
    )
    _close(
        gl.softmax_cross_entropy_with_integer_labels(x, flat, axis=(2, 1)),
        optax_int(x, flat, axis=(2, 1)),
    )
    logits, labels_np = _data((4, 6), 3)
    x, lab = jnp.asarray(logits), jnp.asarray(labels_np)
    where = jnp.asarray(np.arange(6)[None, :] != (labels_np[:, None] + 1) % 6)
    row_where = jnp.asarray([True, False, True, True])
    for w in (where, row_where):
        _close(
            gl.softmax_cross_entropy_with_integer_labels(x, lab, where=w),
            optax_int(x, lab, where=w),
        )
        one_hot = jnp.asarray(_one_hot(labels_np, 6))
        _close(
            gl.softmax_cross_entropy(x, one_hot, where=w),
            optax.losses.softmax_cross_entropy(x, one_hot, where=w),
        )


def test_label_smoothing_matches_torch_and_optax() -> None:
    logits, labels = _data((6, 5), 4)
    one_hot = jnp.asarray(_one_hot(labels, 5))
    for alpha in (0.0, 0.1, 0.3):
        smoothed = gl.smooth_labels(one_hot, alpha)
        _close(smoothed, optax.losses.smooth_labels(one_hot, alpha))
        _close(smoothed, (1 - alpha) * _one_hot(labels, 5) + alpha / 5)
        ours = gl.softmax_cross_entropy(jnp.asarray(logits), smoothed)
        want = tf.cross_entropy(
            torch.tensor(logits),
            torch.tensor(labels, dtype=torch.long),
            reduction="none",
            label_smoothing=alpha,
        )
        _close(ours, want.numpy(), 1e-5)
    where = jnp.asarray(np.arange(5)[None, :] < 4)
    _close(
        gl.smooth_labels(one_hot, 0.2, where=where),
        optax.losses.smooth_labels(one_hot, 0.2, where=where),
    )


def test_saturated_logits_give_finite_exact_gradients() -> None:
    logits = jnp.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [0.0, 0.0, -1e4]])
    labels = jnp.array([2, 0, 2], jnp.int32)
    one_hot = jax.nn.one_hot(labels, 3, dtype=jnp.float32)
    want = jax.nn.softmax(logits) - one_hot
    for loss in (
        lambda x: gl.softmax_cross_entropy(x, one_hot),
        lambda x: gl.safe_softmax_cross_entropy(x, one_hot),
        lambda x: gl.softmax_cross_entropy_with_integer_labels(x, labels),
    ):
        value = loss(logits)
        grad = jax.grad(lambda x, f=loss: f(x).sum())(logits)
        assert bool(jnp.all(jnp.isfinite(value))) and bool(jnp.all(jnp.isfinite(grad)))
        _close(value, [1e4, 2e4, 1e4], 1e-4)
        _close(grad, want)


def test_safe_cross_entropy_handles_minus_inf_logits() -> None:
    logits = jnp.array([0.0, 1.0, -jnp.inf], jnp.float32)
    labels = jnp.array([0.25, 0.75, 0.0], jnp.float32)
    loss = gl.safe_softmax_cross_entropy(logits, labels)
    assert bool(jnp.isnan(gl.softmax_cross_entropy(logits, labels)))
    _close(loss, optax.losses.safe_softmax_cross_entropy(logits, labels))
    grad = jax.grad(gl.safe_softmax_cross_entropy)(logits, labels)
    _close(grad, jax.nn.softmax(logits) - labels)


def test_out_of_range_labels_raise_or_give_nan() -> None:
    logits = jnp.zeros((3, 4), jnp.float32)
    fn = gl.softmax_cross_entropy_with_integer_labels
    for bad in (-1, 4):
        labels = jnp.array([0, bad, 1], jnp.int32)
        with pytest.raises(ValueError, match=rf"^{fn.__name__}: labels must be class"):
            fn(logits, labels)
        loss = jax.jit(fn)(logits, labels)
        assert np.isnan(np.asarray(loss)).tolist() == [False, True, False]
        # Excluded by where: no error, a zero loss (padding).
        where = labels >= 0 if bad < 0 else labels < 4
        _close(fn(logits, labels, where=where), [np.log(4), 0.0, np.log(4)])


@pytest.mark.parametrize(
    "name, args, kwargs, kind, words",
    [
        (
            "softmax_cross_entropy_with_integer_labels",
            (jnp.zeros((2, 3)), jnp.zeros((2,), jnp.float32)),
            {},
            TypeError,
            "labels has dtype float32; it must be integer",
        ),
        (
            "softmax_cross_entropy_with_integer_labels",
            (jnp.zeros((2, 3), jnp.int32), jnp.zeros((2,), jnp.int32)),
            {},
            TypeError,
            "logits has dtype int32",
        ),
        (
            "softmax_cross_entropy_with_integer_labels",
            (jnp.zeros((2, 3)), jnp.zeros((3,), jnp.int32)),
            {},
            ValueError,
            "labels has shape (3,)",
        ),
        (
            "softmax_cross_entropy_with_integer_labels",
            (jnp.zeros((2, 3)), jnp.zeros((2,), jnp.int32)),
            {"axis": 2},
            ValueError,
            "axis=2",
        ),
        (
            "softmax_cross_entropy_with_integer_labels",
            (jnp.zeros((2, 3)), jnp.zeros((2,), jnp.int32)),
            {"axis": None},
            TypeError,
            "axis must be",
        ),
        (
            "softmax_cross_entropy",
            (jnp.zeros((2, 3)), jnp.zeros((2, 4))),
            {},
            ValueError,
            "labels has shape (2, 4)",
        ),
        (
            "softmax_cross_entropy",
            (jnp.zeros((2, 3)), jnp.zeros((2, 3))),
            {"where": jnp.ones((2, 3), jnp.int32)},
            TypeError,
            "where has dtype int32",
        ),
        (
            "safe_softmax_cross_entropy",
            (jnp.zeros((2, 3), jnp.int32), jnp.zeros((2, 3))),
            {},
            TypeError,
            "logits has dtype int32",
        ),
        (
            "smooth_labels",
            (jnp.zeros((2, 3)), 1.5),
            {},
            ValueError,
            "alpha must be in [0, 1]",
        ),
        (
            "smooth_labels",
            (jnp.zeros((2, 3), jnp.int32), 0.1),
            {},
            TypeError,
            "labels has dtype int32",
        ),
    ],
)
def test_bad_inputs_name_function_and_argument(name, args, kwargs, kind, words) -> None:
    with pytest.raises(kind) as info:
        getattr(gl, name)(*args, **kwargs)
    assert str(info.value).startswith(f"{name}: ")
    assert words in str(info.value)


def test_vmap_matches_batch() -> None:
    logits, labels = _data((4, 5), 5)
    x, lab = jnp.asarray(logits), jnp.asarray(labels)
    fn = gl.softmax_cross_entropy_with_integer_labels
    _close(jax.vmap(fn)(x, lab), fn(x, lab))
