"""gradtx.nn.functional: dropout, spatial_dropout and drop_path."""

from __future__ import annotations

import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gradtx.nn import functional as fn_

KEY = jax.random.key(0)


def test_keep_fraction_and_expectation_match_the_bernoulli_rate() -> None:
    n, rate = 1_000_000, 0.3
    y = jax.jit(lambda k, x: fn_.dropout(k, x, rate))(KEY, jnp.ones(n, jnp.float32))
    kept = float(jnp.mean(y != 0))
    # Binomial: standard error sqrt(p (1 - p) / n).
    assert abs(kept - (1 - rate)) < 4 * np.sqrt(rate * (1 - rate) / n)
    np.testing.assert_allclose(
        np.asarray(y)[np.asarray(y) != 0], 1 / (1 - rate), rtol=1e-6
    )
    assert abs(float(jnp.mean(y)) - 1.0) < 4 * np.sqrt(rate / (1 - rate) / n)


def test_same_key_same_mask_and_other_key_other_mask() -> None:
    x = jnp.ones(1000)
    a, b = fn_.dropout(KEY, x, 0.5), fn_.dropout(KEY, x, 0.5)
    c = fn_.dropout(jax.random.key(1), x, 0.5)
    np.testing.assert_array_equal(a, b)
    assert bool(jnp.any(a != c))


def test_identity_cases_and_rate_one() -> None:
    x = jnp.arange(6.0).reshape(2, 3)
    assert fn_.dropout(KEY, x, 0.0) is x
    assert fn_.dropout(None, x, 0.7, deterministic=True) is x
    grad = jax.grad(lambda v: jnp.sum(fn_.dropout(KEY, v, 1.0)))(x)
    np.testing.assert_array_equal(fn_.dropout(KEY, x, 1.0), jnp.zeros_like(x))
    np.testing.assert_array_equal(grad, jnp.zeros_like(x))
    # A traced rate of 1 too: zeros and finite gradients.
    traced = jax.jit(jax.grad(lambda v, r: jnp.sum(fn_.dropout(KEY, v, r))))(x, 1.0)
    np.testing.assert_array_equal(traced, jnp.zeros_like(x))


def test_gradient_is_the_mask_over_keep_probability() -> None:
    x = jnp.linspace(-1.0, 1.0, 50)
    y = fn_.dropout(KEY, x, 0.4)
    grad = jax.grad(lambda v: jnp.sum(fn_.dropout(KEY, v, 0.4)))(x)
    np.testing.assert_allclose(
        grad, np.where(np.asarray(y) != 0, 1 / 0.6, 0.0), rtol=1e-6
    )


def test_broadcast_dims_mask_whole_channels_and_keep_dtype() -> None:
    x = jnp.ones((4, 5, 5, 8), jnp.bfloat16)
    y = fn_.dropout(KEY, x, 0.5, broadcast_dims=(1, 2))
    assert y.dtype == jnp.bfloat16 and y.shape == x.shape
    per_map = np.asarray(y, np.float32)
    assert np.all(per_map.min(axis=(1, 2)) == per_map.max(axis=(1, 2)))


def test_spatial_dropout_and_drop_path_masks() -> None:
    x = jnp.ones((64, 3, 3, 4))
    y = np.asarray(fn_.spatial_dropout(KEY, x, 0.5))
    assert np.all(y.min(axis=(1, 2)) == y.max(axis=(1, 2)))  # whole maps
    assert set(np.unique(y)) == {0.0, 2.0}
    z = np.asarray(fn_.drop_path(KEY, x, 0.25))
    flat = z.reshape(64, -1)
    assert np.all(flat.min(axis=1) == flat.max(axis=1))  # whole examples
    np.testing.assert_allclose(sorted(set(np.unique(z))), [0.0, 1 / 0.75], rtol=1e-6)


@pytest.mark.parametrize("fn", [fn_.dropout, fn_.spatial_dropout, fn_.drop_path])
@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan")])
def test_rate_outside_zero_one_is_an_error(fn: Any, rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        fn(KEY, jnp.ones((2, 2, 2)), rate)


def test_missing_key_in_training_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs a PRNG key"):
        fn_.dropout(None, jnp.ones(3), 0.5)
    with pytest.raises(ValueError, match="batch, spatial and channel"):
        fn_.spatial_dropout(KEY, jnp.ones((2, 3)), 0.5)


def test_vmap_over_keys_gives_each_example_its_own_mask() -> None:
    keys = jax.random.split(KEY, 8)
    ys = jax.vmap(lambda k: fn_.dropout(k, jnp.ones(100), 0.5))(keys)
    assert len({tuple(np.asarray(row != 0)) for row in ys}) == 8


# --- axes out of range raise instead of wrapping modulo the rank (issue 14) ---


@pytest.mark.parametrize("dims", [(5,), (-3,), (0, 2)])
@pytest.mark.parametrize("deterministic", [False, True])
def test_broadcast_dims_out_of_range_raise(dims: tuple, deterministic: bool) -> None:
    # (5,) on a 2-D input used to mean 5 % 2 = axis 1: whole rows dropped.
    bad = next(d for d in dims if not -2 <= d < 2)
    match = (
        rf"dropout: broadcast_dims={re.escape(repr(dims))} names axis {bad}, but "
        r"the input has shape \(4, 3\) \(rank 2\): axes must be in \[-2, 2\)"
    )
    with pytest.raises(ValueError, match=match):
        fn_.dropout(KEY, jnp.ones((4, 3)), 0.5, broadcast_dims=dims,
                    deterministic=deterministic)  # fmt: skip


def test_broadcast_dims_in_range_negative_axes_count_from_the_end() -> None:
    x = jnp.ones((4, 3))
    np.testing.assert_array_equal(
        fn_.dropout(KEY, x, 0.5, broadcast_dims=(-1,)),
        fn_.dropout(KEY, x, 0.5, broadcast_dims=(1,)),
    )
    with pytest.raises(TypeError, match=r"broadcast_dims must be a sequence"):
        fn_.dropout(KEY, x, 0.5, broadcast_dims=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"broadcast_dims takes int axes, got 1.0"):
        fn_.dropout(KEY, x, 0.5, broadcast_dims=(1.0,))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("axis", "match"),
    [
        (4, r"channel_axis=4 names axis 4, .*shape \(2, 3, 3, 4\)"),  # was axis 0
        (-5, r"channel_axis=-5 names axis -5, .*in \[-4, 4\)"),  # was axis 3
        (0, r"channel_axis=0 is axis 0, the batch axis"),  # was drop_path
        (-4, r"channel_axis=-4 is axis 0, the batch axis"),
    ],
)
def test_spatial_dropout_channel_axis_out_of_range_or_batch_raises(
    axis: int, match: str
) -> None:
    with pytest.raises(ValueError, match=rf"spatial_dropout: {match}"):
        fn_.spatial_dropout(KEY, jnp.ones((2, 3, 3, 4)), 0.5, channel_axis=axis)


def test_traced_rate_outside_zero_one_gives_nan_not_zeros() -> None:
    # A NaN keep probability never keeps: the output used to be all zeros.
    drop = jax.jit(lambda r: fn_.dropout(KEY, jnp.ones(4), r))
    for rate in (float("nan"), 1.5, -0.5):
        assert np.isnan(np.asarray(drop(rate))).all()
    assert set(np.asarray(drop(0.5)).tolist()) <= {0.0, 2.0}
