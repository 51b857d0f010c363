"""lsuv and zero_init_residual on Flax NNX models, checked by independent forwards."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from sklearn.datasets import load_digits

import gradtx.nn
from gradtx.init._data import lsuv, zero_init_residual

DIGITS = jnp.asarray(load_digits().data[:256] / 16.0, jnp.float32)


class CNN(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.conv1 = nnx.Conv(1, 8, (3, 3), rngs=rngs)
        self.bn = gradtx.nn.BatchNorm(8, rngs=rngs)
        self.conv2 = nnx.Conv(8, 16, (3, 3), rngs=rngs)
        self.drop = gradtx.nn.Dropout(0.5, rngs=rngs)
        self.head = nnx.Linear(16 * 8 * 8, 10, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(-1, 8, 8, 1)
        h1 = self.conv1(x)
        h2 = self.conv2(jax.nn.relu(self.bn(h1)))
        return self.head(self.drop(jax.nn.tanh(h2)).reshape(x.shape[0], -1))


def _conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """SAME 3x3 convolution (cross-correlation, NHWC/HWIO) in NumPy."""
    pad = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = np.zeros((*x.shape[:3], kernel.shape[-1]))
    for i in range(3):
        for j in range(3):
            out += pad[:, i : i + x.shape[1], j : j + x.shape[2]] @ kernel[i, j]
    return out + bias


def _numpy_layer_outputs(m: CNN) -> list[np.ndarray]:
    """Each layer's output in float64 NumPy, dropout off, BatchNorm on batch stats."""
    p = {
        "/".join(map(str, k)): np.asarray(v[...], np.float64)
        for k, v in nnx.to_flat_state(nnx.state(m, nnx.Param))
    }
    x = np.asarray(DIGITS, np.float64).reshape(-1, 8, 8, 1)
    h1 = _conv(x, p["conv1/kernel"], p["conv1/bias"])
    mu, var = h1.mean(axis=(0, 1, 2)), h1.var(axis=(0, 1, 2))
    a1 = np.maximum((h1 - mu) / np.sqrt(var + 1e-5) * p["bn/scale"] + p["bn/bias"], 0)
    h2 = _conv(a1, p["conv2/kernel"], p["conv2/bias"])
    out = np.tanh(h2).reshape(len(x), -1) @ p["head/kernel"] + p["head/bias"]
    return [h1, h2, out]


def test_lsuv_gives_unit_output_variance_per_layer() -> None:
    model = CNN(nnx.Rngs(0))
    stats_before = nnx.clone(nnx.state(model, nnx.BatchStat))
    result = lsuv(model, DIGITS, key=jax.random.key(1), tol=0.01)
    assert list(result) == ["conv1", "conv2", "head"]
    for out in _numpy_layer_outputs(model):
        assert abs(out.var() - 1.0) < 0.05, out.var()
    # Orthogonal directions: each kernel is a multiple of an orthogonal matrix.
    for layer in (model.conv1, model.conv2, model.head):
        w = np.asarray(layer.kernel[...], np.float64).reshape(
            -1, layer.kernel.shape[-1]
        )
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        np.testing.assert_allclose(gram / gram[0, 0], np.eye(len(gram)), atol=1e-4)
    # Running statistics and modes are untouched.
    for (_, a), (_, b) in zip(
        nnx.to_flat_state(stats_before),
        nnx.to_flat_state(nnx.state(model, nnx.BatchStat)),
        strict=True,
    ):
        np.testing.assert_array_equal(a[...], b[...])
    assert model.drop.deterministic is False


def test_lsuv_without_orthogonal_only_rescales() -> None:
    model = nnx.Sequential(nnx.Linear(64, 32, use_bias=False, rngs=nnx.Rngs(0)))
    before = np.asarray(model.layers[0].kernel[...])
    lsuv(model, DIGITS, key=None, orthogonal=False)
    after = np.asarray(model.layers[0].kernel[...])
    ratio = after / before
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-5)  # one scalar factor
    assert abs(float(jnp.var(DIGITS @ after)) - 1.0) < 0.02


def test_lsuv_errors() -> None:
    with pytest.raises(ValueError, match="key"):
        lsuv(CNN(nnx.Rngs(0)), DIGITS, key=None)
    with pytest.raises(ValueError, match="no layer"):
        lsuv(gradtx.nn.BatchNorm(3, rngs=nnx.Rngs(0)), jnp.ones((4, 3)), key=None)
    with pytest.raises(ValueError, match="tol"):
        lsuv(CNN(nnx.Rngs(0)), DIGITS, key=jax.random.key(0), tol=0.0)
    dead = nnx.Sequential(nnx.Linear(64, 4, rngs=nnx.Rngs(0)))
    with pytest.raises(ValueError, match="layers/0 has variance 0"):
        lsuv(dead, jnp.zeros((8, 64)), key=jax.random.key(0))


class Basic(nnx.Module):
    """A ResNet basic block: relu(x + bn2(conv2(relu(bn1(conv1(x))))))."""

    def __init__(self, norm: type, rngs: nnx.Rngs) -> None:
        self.conv1 = nnx.Conv(4, 4, (3, 3), rngs=rngs)
        self.bn1 = norm(4, rngs=rngs)
        self.conv2 = nnx.Conv(4, 4, (3, 3), rngs=rngs)
        self.bn2 = norm(4, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        branch = self.bn2(self.conv2(jax.nn.relu(self.bn1(self.conv1(x)))))
        return jax.nn.relu(x + branch)


@pytest.mark.parametrize("norm", [gradtx.nn.BatchNorm, nnx.BatchNorm])
def test_zero_init_residual_makes_each_block_the_identity(norm: type) -> None:
    model = nnx.Sequential(Basic(norm, nnx.Rngs(0)), Basic(norm, nnx.Rngs(1)))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 5, 5, 4)), jnp.float32)
    assert not np.allclose(model(x), jax.nn.relu(x))
    zeroed = zero_init_residual(model, "bn2")
    assert zeroed == ["layers/0/bn2", "layers/1/bn2"]
    # Two identity blocks: relu(relu(x)) = relu(x), exactly.
    np.testing.assert_array_equal(model(x), jax.nn.relu(x))
    assert float(jnp.abs(model.layers[0].bn1.scale[...]).min()) == 1.0  # others kept
    by_predicate = nnx.Sequential(Basic(norm, nnx.Rngs(0)))
    assert zero_init_residual(by_predicate, lambda p, m: p[-1:] == ("bn2",)) == [
        "layers/0/bn2"
    ]


def test_zero_init_residual_errors_name_the_candidates() -> None:
    model = Basic(gradtx.nn.BatchNorm, nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"bn1.*bn2"):
        zero_init_residual(model, "bn3")
    with pytest.raises(ValueError, match="no scale"):
        zero_init_residual(model, "conv2")
