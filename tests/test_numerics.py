"""gradtx.numerics: optax's safe norms and saturating counters."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

X = jnp.asarray(np.random.default_rng(0).normal(size=(3, 4)), jnp.float32)


@pytest.mark.parametrize(
    "kw",
    [{}, {"ord": 1}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"ord": "fro"}],
)
def test_safe_norm_is_optax_s_and_numpy_s_above_the_bound(kw: dict) -> None:
    ours = gradtx.safe_norm(X, 0.1, **kw)
    np.testing.assert_allclose(ours, optax.safe_norm(X, 0.1, **kw), rtol=1e-6)
    np.testing.assert_allclose(ours, np.linalg.norm(np.asarray(X), **kw), rtol=1e-6)


def test_safe_norms_have_a_zero_gradient_at_zero() -> None:
    """The plain maximum of the norm and the bound has a NaN gradient at 0."""
    zero = jnp.zeros(3)
    naive = jax.grad(lambda x: jnp.maximum(jnp.linalg.norm(x), 1e-3))(zero)
    assert bool(jnp.all(jnp.isnan(naive)))  # what the safe forms avoid
    for f in (
        lambda x: gradtx.safe_norm(x, 1e-3),
        lambda x: gradtx.safe_root_mean_squares(x, 1e-3),
    ):
        np.testing.assert_array_equal(jax.grad(f)(zero), np.zeros(3))
        assert float(f(zero)) == pytest.approx(1e-3)
    # Above the bound the gradient is the norm's, x / |x|.
    x = jnp.array([3.0, 4.0])
    np.testing.assert_allclose(jax.grad(lambda v: gradtx.safe_norm(v, 1.0))(x), x / 5)


def test_safe_root_mean_squares_is_optax_s() -> None:
    for bound in (0.1, 10.0):
        np.testing.assert_allclose(
            gradtx.safe_root_mean_squares(X, bound),
            optax.safe_root_mean_squares(X, bound),
            rtol=1e-6,
        )


@pytest.mark.parametrize(
    ("dtype", "top"),
    [(jnp.int32, 2**31 - 1), (jnp.int8, 127), (jnp.float32, np.finfo(np.float32).max)],
)
def test_safe_increment_saturates_at_the_dtype_s_maximum(
    dtype: object, top: float
) -> None:
    at_top = jnp.asarray(top, dtype)
    assert gradtx.safe_increment(at_top) == at_top
    assert gradtx.safe_increment(at_top).dtype == at_top.dtype
    assert int(gradtx.safe_increment(jnp.asarray(5, dtype))) == 6
    assert gradtx.safe_increment(at_top) == optax.safe_increment(at_top)


def test_safe_int32_increment_takes_int32_only() -> None:
    assert int(gradtx.safe_int32_increment(jnp.asarray(1, jnp.int32))) == 2
    with pytest.raises(TypeError, match="safe_int32_increment: count must be int32"):
        gradtx.safe_int32_increment(jnp.asarray(1.0, jnp.float32))


@pytest.mark.parametrize("dtype", [jnp.bool_, jnp.complex64])
def test_safe_increment_rejects_bool_and_complex_with_optax_s_value_error(
    dtype: Any,
) -> None:
    count = jnp.asarray(1, dtype)
    with pytest.raises(ValueError):
        optax.safe_increment(count)
    with pytest.raises(ValueError, match="safe_increment: count must be"):
        gradtx.safe_increment(count)


@pytest.mark.parametrize("dtype", [jnp.uint8, jnp.uint16, jnp.uint32])
def test_safe_increment_of_unsigned_counters_saturates_as_optax_s(
    dtype: Any,
) -> None:
    top = jnp.asarray(jnp.iinfo(dtype).max, dtype)
    step = jax.jit(gradtx.safe_increment)
    assert step(top) == top
    assert step(top).dtype == top.dtype
    assert int(step(jnp.asarray(3, dtype))) == 4
    assert step(top) == optax.safe_increment(top)


def test_optax_s_state_aliases_are_the_same_classes() -> None:
    assert gradtx.ClipState is gradtx.EmptyState
    assert gradtx.MultiTransformState is gradtx.PartitionState
    tx = gradtx.multi_transform({"a": gradtx.sgd(0.1)}, {"w": "a"})
    assert isinstance(tx.init({"w": jnp.ones(2)}), gradtx.MultiTransformState)
