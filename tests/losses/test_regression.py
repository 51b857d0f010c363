"""Regression and similarity losses vs optax, NumPy float64 and torch."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as tf

import gradtx.losses as gl

SHAPES = [(5,), (3, 4), (2, 3, 4)]


def _pair(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.normal(size=shape).astype(np.float32) * 2
    t = rng.normal(size=shape).astype(np.float32) * 2
    return p, t


def _close(a: object, b: object, tol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


ELEMENTWISE = {
    "squared_error": (lambda e: e**2, {}),
    "l2_loss": (lambda e: 0.5 * e**2, {}),
    "huber_loss": (
        lambda e: np.where(np.abs(e) <= 1.5, 0.5 * e**2, 1.5 * (np.abs(e) - 0.75)),
        {"delta": 1.5},
    ),
    "log_cosh": (lambda e: np.log(np.cosh(e)), {}),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("shape", SHAPES)
def test_elementwise_matches_optax_and_numpy(name: str, shape: tuple) -> None:
    reference, kwargs = ELEMENTWISE[name]
    p, t = _pair(shape)
    ours = getattr(gl, name)(jnp.asarray(p), jnp.asarray(t), **kwargs)
    assert ours.shape == shape and ours.dtype == jnp.float32
    _close(ours, getattr(optax.losses, name)(jnp.asarray(p), jnp.asarray(t), **kwargs))
    e = p.astype(np.float64) - t.astype(np.float64)
    _close(ours, reference(e), 1e-5)
    # Without targets: the targets are zeros.
    _close(
        getattr(gl, name)(jnp.asarray(p), **kwargs),
        reference(p.astype(np.float64)),
        1e-5,
    )


def test_huber_matches_torch() -> None:
    p, t = _pair((4, 5), 1)
    for delta in (0.5, 1.0, 2.0):
        want = tf.huber_loss(
            torch.tensor(p), torch.tensor(t), reduction="none", delta=delta
        )
        ours = gl.huber_loss(jnp.asarray(p), jnp.asarray(t), delta=delta)
        _close(ours, want.numpy(), 1e-5)


def test_log_cosh_is_finite_for_large_errors() -> None:
    x = jnp.array([-1e4, -100.0, 0.0, 100.0, 1e4], jnp.float32)
    loss = gl.log_cosh(x)
    grad = jax.grad(lambda v: gl.log_cosh(v).sum())(x)
    assert bool(jnp.all(jnp.isfinite(loss))) and bool(jnp.all(jnp.isfinite(grad)))
    _close(grad, np.tanh(np.asarray(x, np.float64)))


@pytest.mark.parametrize("name", ["cosine_similarity", "cosine_distance"])
@pytest.mark.parametrize("shape", SHAPES)
def test_cosine_matches_optax_numpy_torch(name: str, shape: tuple) -> None:
    p, t = _pair(shape, 2)
    ours = getattr(gl, name)(jnp.asarray(p), jnp.asarray(t))
    _close(ours, getattr(optax.losses, name)(jnp.asarray(p), jnp.asarray(t)))
    a, b = p.astype(np.float64), t.astype(np.float64)
    cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    want = cos if name == "cosine_similarity" else 1.0 - cos
    _close(ours, want, 1e-5)
    torch_cos = tf.cosine_similarity(torch.tensor(p), torch.tensor(t), dim=-1).numpy()
    _close(ours, torch_cos if name == "cosine_similarity" else 1 - torch_cos, 1e-5)


def test_cosine_axis_where_epsilon_match_optax() -> None:
    p, t = _pair((3, 4, 5), 3)
    where = np.random.default_rng(3).random((3, 4, 5)) > 0.3
    for kwargs in (
        {"axis": (1, 2)},
        {"axis": None},
        {"axis": 1, "where": jnp.asarray(where)},
        {"epsilon": 1e-3},
    ):
        ours = gl.cosine_similarity(jnp.asarray(p), jnp.asarray(t), **kwargs)
        want = optax.losses.cosine_similarity(jnp.asarray(p), jnp.asarray(t), **kwargs)
        _close(ours, want)


Z3 = jnp.zeros((3,), jnp.float32)


@pytest.mark.parametrize(
    "name, args, kwargs, kind, words",
    [
        ("squared_error", (jnp.arange(3),), {}, TypeError, "predictions has dtype"),
        ("l2_loss", (Z3, jnp.zeros((4,))), {}, ValueError, "targets has shape (4,)"),
        ("huber_loss", (Z3,), {"delta": 0.0}, ValueError, "delta must be"),
        ("log_cosh", (jnp.zeros((2, 3)), jnp.zeros((3, 2))), {}, ValueError, "targets"),
        (
            "cosine_similarity",
            (jnp.zeros((2, 3)), jnp.zeros((2, 4))),
            {},
            ValueError,
            "targets has shape (2, 4)",
        ),
        (
            "cosine_distance",
            (Z3, jnp.zeros((3,), jnp.int32)),
            {},
            TypeError,
            "targets has dtype int32",
        ),
        (
            "cosine_similarity",
            (Z3, Z3),
            {"where": jnp.ones((3,), jnp.float32)},
            TypeError,
            "where has dtype float32",
        ),
    ],
)
def test_bad_inputs_name_function_and_argument(name, args, kwargs, kind, words) -> None:
    with pytest.raises(kind) as info:
        getattr(gl, name)(*args, **kwargs)
    assert str(info.value).startswith(f"{name}: ")
    assert words in str(info.value)


def test_jit_and_vmap() -> None:
    p, t = _pair((3, 4), 4)
    f = jax.jit(jax.vmap(lambda a, b: gl.huber_loss(a, b, delta=0.5).sum()))
    want = optax.losses.huber_loss(jnp.asarray(p), jnp.asarray(t), delta=0.5).sum(-1)
    _close(f(jnp.asarray(p), jnp.asarray(t)), want)
